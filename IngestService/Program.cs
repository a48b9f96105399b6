// IngestService: owner of all durable document state (SQLite catalog + blob storage on Storage:Root).
using IngestService.Catalog;
using Suite.ServiceDefaults.Redis;

// A maintenance command, run while the service is stopped: it must never build or start the web host.
if (RestoreCommand.IsRequested(args))
{
    Environment.ExitCode = RestoreCommand.Run(args);
    return;
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddResilientRedisClient("redis");
builder.AddIngestStorage();
builder.AddCatalogBackups();
builder.AddIngestCatalog();
builder.AddJobQueue();
builder.AddMalwareScanning();
builder.AddIngestApi();
builder.AddUrlSources();
builder.AddWebhooks();
builder.AddOcrLanguages();
builder.AddUploadAdmission();
builder.AddPublicApiDocument("Ingest", "Upload documents (PDF, images, DOCX, PPTX, HTML, Markdown), follow their processing, fetch their results and chunks.");
builder.AddArtifactStorage();
builder.AddProgressEvents();
builder.AddChunks();
builder.AddRetention();
builder.AddBatchUploads();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapDocumentEndpoints();
app.MapBatchEndpoints();
app.MapOcrLanguageEndpoints();
app.MapWorkerEndpoints();
app.MapCatalogAdminEndpoints();
app.MapArtifactEndpoints();
app.MapChunkEndpoints();
app.MapEventEndpoints();
app.MapProgressEndpoints();
app.MapWebhookEndpoints();
app.MapPublicApiDocument();

app.Run();

/// <summary>Entry point; public and partial so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
