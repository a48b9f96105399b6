// Gateway: the suite's only public entry. API keys, per-client rate limits and path checks, then YARP.
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddFrontDoor();
builder.AddDocumentProxy();
builder.AddPublicApiReference();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseFrontDoor();
app.MapDocumentProxy();
app.MapPublicApiReference();

app.Run();

public partial class Program;
