using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// A real Kestrel server on a loopback port standing in for the web a URL upload fetches from: documents served as set,
/// redirects, a body that trickles, bodies over the upload limit with and without Content-Length, oversized headers and
/// any status. It records every request it receives.
/// </summary>
public sealed class RemoteDocumentServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RemoteDocumentServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>http://127.0.0.1:{port}/</summary>
    public Uri Url { get; }

    public int Port => Url.Port;

    /// <summary>Path and query of every request received.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Bodies served at /doc/{name}, with an optional Content-Disposition.</summary>
    public ConcurrentDictionary<string, (byte[] Body, string? Disposition)> Documents { get; } = new(StringComparer.Ordinal);

    public Uri At(string pathAndQuery) => new(Url, pathAndQuery);

    /// <summary>How many requests reached <paramref name="path"/> (query ignored).</summary>
    public int CountOf(string path) => Requests.Count(r => r.Split('?')[0] == path);

    /// <summary>
    /// /doc/{name}: a document set in <see cref="Documents"/>; /redirect?to=URL: 302 to it; /trickle: a PDF header, then a
    /// byte every 200 ms until the client leaves; /huge?bytes=N[&amp;length=false]: N bytes starting with %PDF-, with
    /// Content-Length unless told not to; /big-headers: a 64 KiB header; /status/{code}: that status.
    /// </summary>
    /// <param name="selfSignedTls">Serve https with a self-signed certificate nobody trusts.</param>
    public static async Task<RemoteDocumentServer> StartAsync(bool selfSignedTls = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = FreePort.Next();
        var url = new Uri($"{(selfSignedTls ? "https" : "http")}://127.0.0.1:{port}/");
        if (selfSignedTls)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(SelfSigned())));
        }
        else
        {
            builder.WebHost.UseUrls(url.ToString());
        }

        var app = builder.Build();
        var server = new RemoteDocumentServer(app, url);
        app.Run(server.ServeAsync);
        await app.StartAsync();
        return server;
    }

    private async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var aborted = context.RequestAborted;
        Requests.Enqueue(request.Path + request.QueryString);
        var path = request.Path.Value ?? "";
        try
        {
            if (path.StartsWith("/doc/", StringComparison.Ordinal) && Documents.TryGetValue(path["/doc/".Length..], out var document))
            {
                response.ContentType = "application/octet-stream";
                if (document.Disposition is not null)
                {
                    response.Headers.ContentDisposition = document.Disposition;
                }

                response.ContentLength = document.Body.Length;
                await response.Body.WriteAsync(document.Body, aborted);
            }
            else if (path == "/redirect")
            {
                response.StatusCode = StatusCodes.Status302Found;
                response.Headers.Location = request.Query["to"].ToString();
            }
            else if (path == "/trickle")
            {
                response.ContentType = "application/pdf";
                await response.Body.WriteAsync("%PDF-1.4\n"u8.ToArray(), aborted);
                await response.Body.FlushAsync(aborted);
                while (true)
                {
                    await Task.Delay(200, aborted);
                    await response.Body.WriteAsync("%"u8.ToArray(), aborted);
                    await response.Body.FlushAsync(aborted);
                }
            }
            else if (path == "/huge")
            {
                await ServeHugeAsync(response, long.Parse(request.Query["bytes"].ToString(), System.Globalization.CultureInfo.InvariantCulture),
                    request.Query["length"] != "false", aborted);
            }
            else if (path == "/big-headers")
            {
                response.Headers["X-Big"] = new string('a', 64 * 1024);
                await response.Body.WriteAsync("%PDF-1.4\n"u8.ToArray(), aborted);
            }
            else if (path.StartsWith("/status/", StringComparison.Ordinal))
            {
                response.StatusCode = int.Parse(path["/status/".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                response.StatusCode = StatusCodes.Status404NotFound;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The fetcher left (a refusal while streaming, a timeout): nothing to answer any more.
        }
    }

    private static async Task ServeHugeAsync(HttpResponse response, long bytes, bool withLength, CancellationToken aborted)
    {
        if (withLength)
        {
            response.ContentLength = bytes;
        }

        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)' ');
        "%PDF-1.4\n"u8.CopyTo(chunk);
        for (long sent = 0; sent < bytes; sent += chunk.Length)
        {
            await response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, bytes - sent)), aborted);
            await response.Body.FlushAsync(aborted);
            chunk.AsSpan(0, 9).Fill((byte)' ');
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Through PKCS#12, so that Kestrel gets a certificate whose private key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
