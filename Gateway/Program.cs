// Gateway: the suite's only public entry. API keys, per-client rate limits and path checks, then YARP; the document
// viewer's static files at / (no key: the page asks for it and sends it to /api itself).
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddFrontDoor();
builder.AddDocumentProxy();
builder.AddPublicApiReference();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseFrontDoor();
app.MapViewer();
app.MapDocumentProxy();
app.MapPublicApiReference();

app.Run();

public partial class Program;
