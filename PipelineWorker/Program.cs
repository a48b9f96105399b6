using Suite.PipelineWorker.Ingest;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Stages;
using Suite.ServiceDefaults.Redis;

// PipelineWorker: pulls document jobs from the Redis stream consumer group and runs the pipeline stages,
// reading the upload and writing checkpoints/results through IngestService's internal API.
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddResilientRedisClient("redis");
builder.AddIngestClient();
builder.AddPipelineStages();
builder.AddJobConsumer();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();

public partial class Program;
