using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// An OpenAI-compatible vision endpoint on real Kestrel on a loopback port (<c>POST /v1/chat/completions</c>),
/// whose behaviour a test switches: answer, fail with 500, or answer too slowly.
/// </summary>
internal sealed class FakeVision : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private FakeVision(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public enum Behaviour
    {
        Answer,
        ServerError,
        Slow,
    }

    public string Url { get; }

    public volatile Behaviour Mode;

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The last request's model, Authorization header and image data URL prefix.</summary>
    public (string? Model, string? Authorization, string? ImagePrefix) LastRequest { get; private set; }

    public static async Task<FakeVision> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeVision(app, $"http://127.0.0.1:{port}");
        app.MapPost("/v1/chat/completions", (Delegate)fake.HandleAsync);
        await app.StartAsync();
        return fake;
    }

    private async Task<IResult> HandleAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        using var body = await JsonDocument.ParseAsync(http.Request.Body);
        var root = body.RootElement;
        var image = root.GetProperty("messages")[0].GetProperty("content").EnumerateArray()
            .Where(c => c.GetProperty("type").GetString() == "image_url")
            .Select(c => c.GetProperty("image_url").GetProperty("url").GetString())
            .FirstOrDefault();
        LastRequest = (root.GetProperty("model").GetString(), http.Request.Headers.Authorization.ToString(), image?[..Math.Min(22, image.Length)]);
        switch (Mode)
        {
            case Behaviour.ServerError:
                return Results.Problem("model overloaded", statusCode: 500);
            case Behaviour.Slow:
                await Task.Delay(TimeSpan.FromSeconds(5), http.RequestAborted);
                break;
        }

        return Results.Json(new { choices = new[] { new { message = new { role = "assistant", content = "A small test picture." } } } });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
