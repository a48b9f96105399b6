using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Suite.Testing;

namespace Gateway.Tests;

/// <summary>A real Kestrel server on a loopback port that records what the gateway forwards to it.</summary>
internal sealed class RecordingBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RecordingBackend(WebApplication app, string name, Uri url)
    {
        _app = app;
        Name = name;
        Url = url;
    }

    public string Name { get; }

    public Uri Url { get; }

    public ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>The W3C traceparent header of each request received (empty when it had none).</summary>
    public ConcurrentQueue<string> TraceParents { get; } = new();

    /// <summary>Every request's headers, as "Name: value" lines.</summary>
    public ConcurrentQueue<string> Headers { get; } = new();

    /// <summary>Small JSON request bodies received (application/json under 64 KiB; other bodies are not read).</summary>
    public ConcurrentQueue<string> JsonBodies { get; } = new();

    /// <summary>JSON bodies answered (200, application/json) on these paths instead of the echo.</summary>
    public ConcurrentDictionary<string, string> Json { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, the backend accepts requests and never answers them (a black hole).</summary>
    public bool Hang { get; set; }

    public static async Task<RecordingBackend> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        builder.WebHost.UseUrls(url.ToString());
        var app = builder.Build();
        var backend = new RecordingBackend(app, name, url);
        app.Run(async context =>
        {
            backend.Paths.Enqueue(context.Request.Path + context.Request.QueryString);
            backend.TraceParents.Enqueue(context.Request.Headers.TraceParent.ToString());
            backend.Headers.Enqueue(string.Join('\n', context.Request.Headers.Select(h => $"{h.Key}: {h.Value}")));
            if (context.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true
                && context.Request.ContentLength is < 64 * 1024)
            {
                using var reader = new StreamReader(context.Request.Body);
                backend.JsonBodies.Enqueue(await reader.ReadToEndAsync(context.RequestAborted));
            }

            if (backend.Hang)
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            context.Response.Headers["X-Backend"] = name;
            if (backend.Json.TryGetValue(context.Request.Path, out var json))
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(json);
                return;
            }

            await context.Response.WriteAsync($"{name}:{context.Request.Method}:{context.Request.Path}");
        });
        await app.StartAsync();
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
