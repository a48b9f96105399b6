using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using IngestService.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Suite.Contracts;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Uploads stream to disk and results stream from disk (Req PERF-2), and listing costs a fixed number of statements
/// whatever the page size (Req PERF-4), measured on the real service with the real SQLite catalog.
/// </summary>
// It measures the allocations of the whole process, which tests running in parallel would add to.
[Collection(TelemetryCollection.Name)]
public sealed class StreamingAndQueryBoundsTests : IAsyncLifetime
{
    private const long Big = 200L * 1024 * 1024;
    private RedisServer _redis = null!;
    private IngestHost _host = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Ingest:MaxUploadBytes"] = (Big + (1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Queue:SweepIntervalSeconds"] = "3600",
            ["Admission:MinFreeDiskBytes"] = "0",
        }).Start();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    [Trait("Req", "PERF-2")]
    [Trait("Req", "LS-6")]
    public async Task A_200_MB_upload_is_streamed_to_disk_without_being_held_in_memory()
    {
        using var form = new MultipartFormDataContent();
        var file = new GeneratedPdf(Big);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", "big.pdf");

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var response = await _host.Client.PostAsync(new Uri("/api/documents", UriKind.Relative), form);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await Api.JsonAsync(response)).GetProperty("id").GetString()!;
        Assert.Equal(Big, new FileInfo(Path.Combine(_host.UploadsDir, id + ".pdf")).Length);
        // Client, in-memory transport and service together: a fraction of the body, never a copy of it.
        Assert.True(allocated < Big / 4, $"the upload allocated {allocated / (1024 * 1024)} MiB for a {Big / (1024 * 1024)} MiB body");
    }

    [Theory]
    [Trait("Req", "PERF-2")]
    [InlineData("markdown", "result.md")]
    [InlineData("html", "result.html")]
    public async Task A_200_MB_result_is_streamed_from_disk_without_being_held_in_memory(string format, string file)
    {
        var id = await Api.UploadOkAsync(_host.Client, Api.MinimalPdf, "result.pdf");
        using (var claim = await _host.Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest("worker-a")))
        {
            Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
            var lease = (await Api.JsonAsync(claim)).GetProperty("leaseToken").GetInt64();
            using var request = Api.WithLease(HttpMethod.Put, InternalApi.Result(id), lease,
                JsonContent.Create(new ResultSubmission("{\"documentId\":\"" + id + "\",\"pages\":[]}", "# small\n", "small\n", "<!DOCTYPE html><title>small</title>\n")));
            using var result = await _host.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        }

        // A large result on disk (as a long document's Markdown or HTML would be), written in place of the small one.
        await using (var big = File.Create(Path.Combine(_host.Root, "results", id, file)))
        {
            big.SetLength(Big);
        }

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var download = await _host.Client.GetAsync(new Uri($"/api/documents/{id}/result?format={format}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await download.Content.ReadAsStreamAsync();
        var length = 0L;
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            length += read;
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(Big, length);
        Assert.True(allocated < Big / 4, $"the download allocated {allocated / (1024 * 1024)} MiB for a {Big / (1024 * 1024)} MiB file");
    }

    [Fact]
    [Trait("Req", "PERF-4")]
    public async Task Listing_a_page_costs_the_same_few_statements_whatever_its_size()
    {
        for (var i = 0; i < 60; i++)
        {
            await Api.UploadOkAsync(_host.Client, Api.MinimalPdf, $"list-{i}.pdf");
        }

        var catalog = _host.Services.GetRequiredService<CatalogDb>();
        async Task<long> StatementsFor(string query)
        {
            var before = catalog.StatementsExecuted;
            using var response = await _host.Client.GetAsync(new Uri("/api/documents" + query, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return catalog.StatementsExecuted - before;
        }

        var one = await StatementsFor("?limit=1");
        var fifty = await StatementsFor("?limit=50");
        var next = await StatementsFor("?limit=50&cursor=" + Uri.EscapeDataString(await CursorAfterFirstAsync()));

        Assert.InRange(one, 1, 6);
        Assert.Equal(one, fifty);
        Assert.Equal(one, next);
    }

    private async Task<string> CursorAfterFirstAsync()
    {
        using var response = await _host.Client.GetAsync(new Uri("/api/documents?limit=1", UriKind.Relative));
        return (await Api.JsonAsync(response)).GetProperty("nextCursor").GetString()!;
    }

    /// <summary><c>%PDF-</c> and zeros, produced while it is sent.</summary>
    private sealed class GeneratedPdf(long length) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[64 * 1024];
            "%PDF-1.7\n"u8.CopyTo(chunk);
            for (var sent = 0L; sent < length;)
            {
                var size = (int)Math.Min(chunk.Length, length - sent);
                await stream.WriteAsync(chunk.AsMemory(0, size));
                sent += size;
                Array.Clear(chunk, 0, 16);
            }
        }

        protected override bool TryComputeLength(out long size)
        {
            size = length;
            return true;
        }
    }
}
