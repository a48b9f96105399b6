using System.Security.Cryptography;

namespace Suite.AppHost.Hosting;

/// <summary>Where the labeling bridge finds Label Studio: a real instance, or the emulator started as a resource.</summary>
public sealed record LabelStudioConnection(string Url, string ApiKey, IResourceBuilder<ProjectResource>? Emulator);

public static class LabelStudioExtensions
{
    /// <summary>
    /// A real Label Studio when <c>Suite:LabelStudio:Url</c> and <c>Suite:LabelStudio:ApiKey</c> are configured;
    /// otherwise the Label Studio EMULATOR (tests/LabelStudioEmulator) as resource <paramref name="name"/>, with a
    /// token made for this run. The emulator is announced loudly: it is not Label Studio.
    /// </summary>
    public static LabelStudioConnection AddLabelStudio(this DistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var url = builder.Configuration["Suite:LabelStudio:Url"];
        var apiKey = builder.Configuration["Suite:LabelStudio:ApiKey"];
        if (!string.IsNullOrWhiteSpace(url) && !string.IsNullOrWhiteSpace(apiKey))
        {
            Console.WriteLine($"Label Studio: {url} (configured)");
            return new LabelStudioConnection(url, apiKey, null);
        }

        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var emulator = builder.AddProject(name, "LabelStudioEmulator").WithEnvironment("Emulator__LegacyToken", token);
        Console.WriteLine(
            $"Label Studio: '{name}' is an EMULATOR (tests/LabelStudioEmulator), not Label Studio. " +
            "Set Suite:LabelStudio:Url and Suite:LabelStudio:ApiKey to export to a real one.");
        return new LabelStudioConnection($"http://{name}", token, emulator);
    }

    /// <summary>
    /// Points the bridge at Label Studio. It deliberately does not wait for it: the bridge must start, accept and
    /// queue exports while Label Studio is down.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithLabelStudio(
        this IResourceBuilder<ProjectResource> bridge, LabelStudioConnection labelStudio, string gatewayResource)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(labelStudio);
        if (labelStudio.Emulator is { } emulator)
        {
            bridge.WithReference(emulator);
        }

        var webhookSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        return bridge
            .WithEnvironment("LabelStudio__Enabled", "true")
            .WithEnvironment("LabelStudio__Url", labelStudio.Url)
            .WithEnvironment("LabelStudio__ApiKey", labelStudio.ApiKey)
            .WithEnvironment("Bridge__WebhookSecret", webhookSecret)
            .WithEnvironment("Bridge__PublicBaseUrl", replica => replica.UrlOf(gatewayResource).GetLeftPart(UriPartial.Authority));
    }
}
