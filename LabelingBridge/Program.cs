var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

var app = builder.Build();

app.MapDefaultEndpoints();

// Exports to Label Studio (outbox, breaker, webhooks) are not built yet; the gateway routes nothing here,
// so no client can reach an endpoint that pretends to work.

app.Run();

public partial class Program;
