var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDocumentProxy();
builder.AddPublicApiReference();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapDocumentProxy();
app.MapPublicApiReference();

app.Run();

public partial class Program;
