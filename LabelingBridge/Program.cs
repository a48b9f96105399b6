var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
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
app.MapPublicApiDocument();

app.Run();

public partial class Program;
