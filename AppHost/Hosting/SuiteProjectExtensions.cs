using System.Globalization;
using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

public static class SuiteProjectExtensions
{
    /// <summary>The probe every service serves: 200 once it can do its work (Redis, catalog, engines...), 503 before.</summary>
    public const string ReadinessPath = "/health/ready";

    /// <summary>
    /// What every service of the suite gets: an HTTP endpoint (unless it declared one), Aspire's health check on
    /// <see cref="ReadinessPath"/> (so <c>WaitFor</c> waits for readiness, not just a process), restart after a crash,
    /// and the AppHost's environment name (Development under <c>dotnet run</c> and in tests), which services started
    /// without a launch profile would otherwise not get.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSuiteDefaults(this IResourceBuilder<ProjectResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Resource.Annotations.OfType<EndpointAnnotation>().Any(e => e.Name == "http"))
        {
            builder.WithHttpEndpoint();
        }

        var environment = builder.ApplicationBuilder.Environment.EnvironmentName;
        return builder.WithHttpHealthCheck(ReadinessPath)
            .WithRestartOnCrash()
            .WithEnvironment("DOTNET_ENVIRONMENT", environment)
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", environment);
    }

    /// <summary>The public entry: <c>Suite:GatewayPort</c> (default 8080; 0 = any free port).</summary>
    public static IResourceBuilder<ProjectResource> WithGatewayEndpoint(this IResourceBuilder<ProjectResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configured = builder.ApplicationBuilder.Configuration["Suite:GatewayPort"];
        var port = 8080;
        if (!string.IsNullOrWhiteSpace(configured) &&
            (!int.TryParse(configured, NumberStyles.Integer, CultureInfo.InvariantCulture, out port) || port is < 0 or > 65535))
        {
            throw new InvalidOperationException($"Suite:GatewayPort is '{configured}'; use a port number, or 0 for any free port.");
        }

        return builder.WithHttpEndpoint(port: port == 0 ? null : port).WithExternalHttpEndpoints();
    }

    /// <summary>
    /// The gateway refuses an upload body over ingest's limit (the AppHost's <c>Ingest:MaxUploadBytes</c>, default
    /// 100 MiB) plus room for the multipart framing, itself and while it streams: one setting for both services.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithUploadBodyLimit(this IResourceBuilder<ProjectResource> gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        const long multipartFraming = 1024 * 1024;
        var limit = ClamAvExtensions.StreamLimit(gateway.ApplicationBuilder.Configuration) + multipartFraming;
        return gateway.WithEnvironment("ReverseProxy__Routes__uploads__MaxRequestBodySize", limit.ToString(CultureInfo.InvariantCulture));
    }
}
