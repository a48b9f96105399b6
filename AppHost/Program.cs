// The suite's topology, as an Aspire AppHost would declare it. Tests build this same topology through
// DistributedApplicationTestingBuilder; configuration (Suite:*) can override ports, replicas and env.
var builder = DistributedApplication.CreateBuilder(args);

var redis = builder.AddRedis("redis");

var ingest = builder.AddProject("ingest", "IngestService")
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("Storage__Root", builder.DataPath("ingest"));

builder.AddProject("pipeline-worker", "PipelineWorker")
    .WithReference(redis).WithReference(ingest)
    .WaitFor(redis).WaitFor(ingest)
    .WithReplicas(2)
    .WithEnvironment("Worker__ConsumerName", replica => replica.InstanceName);

// A real Label Studio when Suite:LabelStudio:Url and ApiKey are set, else the emulator (announced as such).
var labelStudio = builder.AddLabelStudio("labelstudio");

var bridge = builder.AddProject("labeling-bridge", "LabelingBridge")
    .WithReference(ingest)
    .WithLabelStudio(labelStudio, gatewayResource: "gateway")
    .WithEnvironment("Outbox__DatabasePath", Path.Combine(builder.DataPath("labeling-bridge"), "outbox.db"));

builder.AddProject("gateway", "Gateway")
    .WithReference(ingest).WithReference(bridge)
    .WaitFor(ingest).WaitFor(bridge)
    .WithHttpEndpoint(port: builder.GatewayPort);

builder.Build().Run();
