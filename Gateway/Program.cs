var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDocumentProxy();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapDocumentProxy();

app.Run();

public partial class Program;
