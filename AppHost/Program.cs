// The suite's topology. What Aspire does not do on a machine without a container engine (redis-server as an
// executable, restarting crashed replicas) lives in the named extensions under Hosting/.
var builder = DistributedApplication.CreateBuilder(args);

var redis = builder.AddRedisServer("redis");

var ingest = builder.AddProject<Projects.IngestService>("ingest")
    .WithReference(redis).WaitFor(redis)
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
    .WithSuiteDefaults();

bridge.WithPublicBaseUrl(gateway);

builder.Build().Run();
