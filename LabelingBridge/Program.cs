var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

var app = builder.Build();

app.MapDefaultEndpoints();

// The Label Studio export (outbox, breaker, webhooks) is not built yet: say so plainly rather than pretend.
app.MapGet("/api/labeling/status", () => Results.Ok(new
{
    service = "labeling-bridge",
    exports = "not_implemented",
    message = "Exports to Label Studio are not available in this version.",
}));

app.Run();

public partial class Program;
