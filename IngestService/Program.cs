// IngestService: owner of all durable document state (SQLite catalog + blob storage on Storage:Root).
using Suite.ServiceDefaults.Redis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddResilientRedisClient("redis");
builder.AddIngestStorage();
builder.AddIngestCatalog();
builder.AddJobQueue();
builder.AddMalwareScanning();
builder.AddIngestApi();
builder.AddUploadAdmission();
builder.AddPublicApiDocument("Ingest", "Upload PDFs, follow their processing, fetch their results.");
builder.AddArtifactStorage();
builder.AddProgressEvents();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapDocumentEndpoints();
app.MapWorkerEndpoints();
app.MapArtifactEndpoints();
app.MapEventEndpoints();
app.MapProgressEndpoints();
app.MapPublicApiDocument();

app.Run();

/// <summary>Entry point; public and partial so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
