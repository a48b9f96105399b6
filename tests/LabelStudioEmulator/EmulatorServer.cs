using LabelStudioEmulator.Faults;
using LabelStudioEmulator.Model;
using LabelStudioEmulator.Webhooks;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace LabelStudioEmulator;

/// <summary>The emulator started inside a test process, on a real loopback port (real HTTP, not a TestServer).</summary>
public sealed class EmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmulatorServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
        State = app.Services.GetRequiredService<EmulatorState>();
        Actions = app.Services.GetRequiredService<EmulatorActions>();
        Webhooks = app.Services.GetRequiredService<WebhookSender>();
    }

    public Uri Url { get; }
    public EmulatorState State { get; }
    public EmulatorActions Actions { get; }
    public WebhookSender Webhooks { get; }
    public FaultControls Faults => State.Faults;
    public RequestLog Requests => State.Requests;
    public EmulatorStore Store => State.Store;
    public string LegacyToken => State.Tokens.LegacyToken;

    public static async Task<EmulatorServer> StartAsync(EmulatorSettings? settings = null, int port = 0)
    {
        var app = EmulatorApp.Build([], settings ?? new EmulatorSettings(), quiet: true);
        app.Urls.Add($"http://127.0.0.1:{port}");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EmulatorServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        State.Faults.Reset();
        await _app.StopAsync(TimeSpan.FromSeconds(5));
        await _app.DisposeAsync();
    }
}
