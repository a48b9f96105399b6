var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddExportOutbox();
builder.AddLabelStudioClient();
builder.AddIngestDocuments();
builder.AddExports();
builder.AddAnnotations();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapExportEndpoints();
app.MapAnnotationEndpoints();
app.MapWebhookEndpoints();

app.Run();

public partial class Program;
