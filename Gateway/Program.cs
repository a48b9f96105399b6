// Gateway: the suite's only public entry. API keys, per-client rate limits and path checks, then YARP.
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddFrontDoor();
builder.AddDocumentProxy();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseFrontDoor();
app.MapDocumentProxy();

app.Run();

public partial class Program;
