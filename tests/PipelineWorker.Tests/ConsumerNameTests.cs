using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Suite.PipelineWorker.Jobs;

namespace PipelineWorker.Tests;

/// <summary>The Redis consumer name a worker takes when none is configured.</summary>
public sealed class ConsumerNameTests
{
    [Theory]
    [InlineData("service.instance.id=abcd1234", "pipeline-worker-abcd1234")]
    [InlineData("deployment.environment=test, service.instance.id = xyz", "pipeline-worker-xyz")]
    public void Under_the_AppHost_the_consumer_is_named_after_the_replica(string attributes, string expected) =>
        Assert.Equal(expected, ConsumerName(attributes));

    [Fact]
    public void Resource_attributes_without_an_instance_id_fall_back_to_host_and_process_id_a_valid_consumer_name()
    {
        var name = ConsumerName("deployment.environment=test");
        Assert.Equal($"{Environment.MachineName}-{Environment.ProcessId}", name);
    }

    private static string ConsumerName(string resourceAttributes)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_SERVICE_NAME"] = "pipeline-worker",
            ["OTEL_RESOURCE_ATTRIBUTES"] = resourceAttributes,
        }).Build();
        using var services = new ServiceCollection().AddWorkerOptions(configuration).BuildServiceProvider();
        return services.GetRequiredService<IOptions<WorkerOptions>>().Value.ConsumerName;
    }
}
