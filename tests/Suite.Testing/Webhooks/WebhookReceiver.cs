using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Suite.Testing.Webhooks;

/// <summary>
/// A webhook receiver as a client would run one: a real Kestrel server on 127.0.0.1 at a port fixed when it is made, so
/// that it can be down (not listening) before <see cref="StartAsync"/> and after <see cref="StopAsync"/>. It answers
/// the statuses queued in <see cref="Script"/>, then 200, and records every request with its headers and raw body;
/// <see cref="Unique"/> is what a receiver keeps after deduplicating by <c>webhook-id</c>.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private WebApplication? _app;

    public WebhookReceiver()
    {
        Port = FreePort.Next();
        Url = new Uri($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");
    }

    public int Port { get; }

    public Uri Url { get; }

    /// <summary>Statuses to answer next, in order; empty: 200.</summary>
    public ConcurrentQueue<int> Script { get; } = new();

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public bool IsListening => _app is not null;

    public Uri At(string path) => new(Url, path);

    /// <summary>The notifications answered 2xx, one per webhook-id (the first kept).</summary>
    public IReadOnlyList<ReceivedWebhook> Unique =>
        [.. Received.Where(r => r.AnsweredStatus is >= 200 and < 300).GroupBy(r => r.Id, StringComparer.Ordinal).Select(g => g.First())];

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(Url.ToString());
        var app = builder.Build();
        app.Run(ServeAsync);
        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task ServeAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var status = Script.TryDequeue(out var scripted) ? scripted : (int)HttpStatusCode.OK;
        Received.Enqueue(new ReceivedWebhook(
            context.Request.Path.Value ?? "",
            context.Request.Headers["webhook-id"].ToString(),
            context.Request.Headers["webhook-timestamp"].ToString(),
            context.Request.Headers["webhook-signature"].ToString(),
            context.Request.ContentType,
            body,
            status));
        context.Response.StatusCode = status;
    }
}

/// <summary>One request a <see cref="WebhookReceiver"/> got: path, the three Standard Webhooks headers, the raw body, and what it answered.</summary>
public sealed record ReceivedWebhook(string Path, string Id, string Timestamp, string Signature, string? ContentType, string Body, int AnsweredStatus)
{
    /// <summary>Whether the signature is valid for <paramref name="secret"/> (<see cref="WebhookVerifier"/>).</summary>
    public bool IsSignedWith(string secret) => WebhookVerifier.Verify(secret, Id, Timestamp, Body, Signature);
}
