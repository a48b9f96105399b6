using LabelingBridge.Outbox;

// A maintenance command, run while the bridge is stopped: it must never build or start the web host.
if (RestoreCommand.IsRequested(args))
{
    Environment.ExitCode = RestoreCommand.Run(args);
    return;
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddOutboxBackups();
builder.AddExportOutbox();
builder.AddLabelStudioClient();
builder.AddIngestDocuments();
builder.AddExports();
builder.AddAnnotations();
builder.AddPublicApiDocument("Labeling bridge", "Export completed documents to Label Studio and read the annotations that come back.");

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapExportEndpoints();
app.MapAnnotationEndpoints();
app.MapWebhookEndpoints();
app.MapOutboxAdminEndpoints();
app.MapPublicApiDocument();

app.Run();

public partial class Program;
