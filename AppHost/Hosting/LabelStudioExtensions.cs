using System.Security.Cryptography;
using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>Where the labeling bridge finds Label Studio: a real instance given as parameters, or the emulator.</summary>
public sealed record LabelStudioConnection(
    IResourceBuilder<ProjectResource>? Emulator, IResourceBuilder<ParameterResource>? Url, IResourceBuilder<ParameterResource>? ApiKey, string? EmulatorToken);

public static class LabelStudioExtensions
{
    public const string UrlParameter = "labelstudio-url";
    public const string ApiKeyParameter = "labelstudio-apikey";

    /// <summary>
    /// A real Label Studio when the parameters <c>labelstudio-url</c> and <c>labelstudio-apikey</c> are given
    /// (<c>Parameters:labelstudio-url</c>, <c>Parameters:labelstudio-apikey</c>); otherwise the Label Studio EMULATOR
    /// (tests/LabelStudioEmulator) as resource <paramref name="name"/>, with a token made for this run, its dashboard
    /// link labelled as an emulator.
    /// </summary>
    public static LabelStudioConnection AddLabelStudio(this IDistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"Parameters:{UrlParameter}"]) &&
            !string.IsNullOrWhiteSpace(builder.Configuration[$"Parameters:{ApiKeyParameter}"]))
        {
            return new LabelStudioConnection(null, builder.AddParameter(UrlParameter), builder.AddParameter(ApiKeyParameter, secret: true), null);
        }

        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var emulator = builder.AddProject<Projects.LabelStudioEmulator>(name)
            .WithEnvironment("Emulator__LegacyToken", token)
            .WithSuiteDefaults()
            .WithUrls(context =>
            {
                foreach (var url in context.Urls)
                {
                    url.DisplayText = "EMULATOR, not Label Studio (set parameters labelstudio-url and labelstudio-apikey for a real one)";
                }
            });
        return new LabelStudioConnection(emulator, null, null, token);
    }

    /// <summary>
    /// Points the bridge at Label Studio. It deliberately does not wait for it: the bridge must start, accept and queue
    /// exports while Label Studio is down.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithLabelStudio(this IResourceBuilder<ProjectResource> bridge, LabelStudioConnection labelStudio)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(labelStudio);
        bridge.WithEnvironment("LabelStudio__Enabled", "true")
            .WithEnvironment("Bridge__WebhookSecret", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)));
        if (labelStudio.Emulator is { } emulator)
        {
            return bridge.WithReference(emulator)
                .WithEnvironment("LabelStudio__Url", emulator.GetEndpoint("http"))
                .WithEnvironment("LabelStudio__ApiKey", labelStudio.EmulatorToken!);
        }

        return bridge.WithEnvironment("LabelStudio__Url", labelStudio.Url!).WithEnvironment("LabelStudio__ApiKey", labelStudio.ApiKey!);
    }

    /// <summary>The suite's public address (the gateway's), where Label Studio loads page images and posts webhooks.</summary>
    public static IResourceBuilder<ProjectResource> WithPublicBaseUrl(this IResourceBuilder<ProjectResource> bridge, IResourceBuilder<ProjectResource> gateway)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(gateway);
        return bridge.WithEnvironment("Bridge__PublicBaseUrl", gateway.GetEndpoint("http"));
    }
}
