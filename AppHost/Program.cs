// The suite's topology. What Aspire does not do on a machine without a container engine (redis-server and clamd as
// executables, restarting crashed replicas) lives in the named extensions under Hosting/.
var builder = DistributedApplication.CreateBuilder(args);

var redis = builder.AddRedisServer("redis");

// clamd with the shipped test signatures (or freshclam's databases, or an external clamd); ingest does not wait for it.
var clamav = builder.AddClamAv("clamav");

var ingest = builder.AddProject<Projects.IngestService>("ingest")
    .WithReference(redis).WaitFor(redis)
    .WithMalwareScanner(clamav)
    .WithEnvironment("Storage__Root", builder.DataPath("ingest"))
    .WithSuiteDefaults();

builder.AddProject<Projects.PipelineWorker>("pipeline-worker")
    .WithReference(redis).WithReference(ingest)
    .WaitFor(redis).WaitFor(ingest)
    .WithReplicas(2)
    .WithSuiteDefaults();

// A real Label Studio when its URL and key are given as parameters, else the emulator (announced as such).
var labelStudio = builder.AddLabelStudio("labelstudio");

var bridge = builder.AddProject<Projects.LabelingBridge>("labeling-bridge")
    .WithReference(ingest)
    .WithLabelStudio(labelStudio)
    .WithEnvironment("Outbox__DatabasePath", Path.Combine(builder.DataPath("labeling-bridge"), "outbox.db"))
    .WithSuiteDefaults();

var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithReference(ingest).WithReference(bridge)
    .WaitFor(ingest).WaitFor(bridge)
    .WithGatewayEndpoint()
    .WithGatewayApiKey()
    .WithUploadBodyLimit()
    .WithSuiteDefaults();

bridge.WithPublicBaseUrl(gateway);

builder.Build().Run();
