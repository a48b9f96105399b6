using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Suite.Contracts;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Batch uploads on the real service (real SQLite, files, redis-server): every file gets its own answer in order, the
/// valid ones a document each through the single upload's checks, the invalid ones their problem; a batch over its
/// bounds, or with a bad option, is refused whole and stores nothing.
/// </summary>
public sealed class BatchUploadTests : IAsyncLifetime
{
    private const int MaxFiles = 25;
    private const long MaxBatchBytes = 1024 * 1024;
    private RedisServer _redis = null!;
    private IngestHost _host = null!;

    private HttpClient Client => _host.Client;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync(appendOnly: false);
        _host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Ingest:MaxBatchFiles"] = MaxFiles.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Ingest:MaxBatchBytes"] = MaxBatchBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Ingest:MaxUploadBytes"] = (200 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, kestrel: true).Start(); // Kestrel: the body limit a batch relies on is the server's
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _redis.DisposeAsync();
    }

    /// <summary>Twenty files: valid ones of several formats, and each kind of bad file a single upload refuses.</summary>
    private static IReadOnlyList<(string Name, byte[] Content, string? Code)> TwentyFiles()
    {
        var files = new List<(string, byte[], string?)>();
        var png = File.ReadAllBytes(FormatFixtures.Path("harbour.png"));
        var markdown = File.ReadAllBytes(FormatFixtures.Path("source.md"));
        var html = File.ReadAllBytes(FormatFixtures.Path("source.html"));
        for (var i = 0; i < 20; i++)
        {
            files.Add((i % 5) switch
            {
                0 => ($"doc-{i:00}.pdf", Api.MinimalPdf, null),
                1 => ($"empty-{i:00}.pdf", [], "empty_file"),
                2 => ($"image-{i:00}.png", png, null),
                3 => ($"random-{i:00}.pdf", RandomBytes(i), "unsupported_format"),
                _ => i % 2 == 0 ? ($"notes-{i:00}.md", markdown, null) : ($"big-{i:00}.pdf", BigPdf(), "file_too_large"),
            });
        }

        // One HTML page among them as well.
        files[19] = ("page-19.html", html, null);
        return files;
    }

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "IN-3")]
    public async Task A_batch_of_20_files_answers_each_in_order_and_is_followed_until_its_documents_end()
    {
        var files = TwentyFiles();
        using var response = await SendBatchAsync(files, ("tables", "off"), ("retainFor", "P2D"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.MultiStatus, text);
        var body = JsonDocument.Parse(text).RootElement;
        var batchId = body.GetProperty("batchId").GetString()!;
        Assert.Equal($"/api/batches/{batchId}", response.Headers.Location?.ToString());
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(20, items.Count);

        var accepted = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var (name, _, code) = files[i];
            var item = items[i];
            Assert.Equal(i, item.GetProperty("index").GetInt32());
            Assert.Equal(name, item.GetProperty("fileName").GetString());
            if (code is null)
            {
                Assert.Equal(202, item.GetProperty("status").GetInt32());
                var document = item.GetProperty("document");
                Assert.Equal(DocumentStatus.Queued, document.GetProperty("status").GetString());
                Assert.Equal("off", document.GetProperty("options").GetProperty("tables").GetString());
                Assert.Equal(2 * 86400, document.GetProperty("retainForSeconds").GetInt64());
                accepted.Add(document.GetProperty("id").GetString()!);
            }
            else
            {
                Assert.False(item.TryGetProperty("document", out _), name);
                var problem = item.GetProperty("problem");
                Assert.Equal(code, problem.GetProperty("code").GetString());
                Assert.Equal(item.GetProperty("status").GetInt32(), problem.GetProperty("status").GetInt32());
                Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
            }
        }

        Assert.Equal(accepted.Count, body.GetProperty("accepted").GetInt32());
        Assert.Equal(20 - accepted.Count, body.GetProperty("refused").GetInt32());
        Assert.Equal(accepted.Count, Directory.GetFiles(_host.UploadsDir).Length);

        var before = await GetBatchAsync(batchId);
        Assert.False(before.GetProperty("done").GetBoolean());
        Assert.Equal(accepted.Count, before.GetProperty("counts").GetProperty(DocumentStatus.Queued).GetInt32());

        // The valid ones are processed (a worker played by the test) and the batch follows them to their end.
        foreach (var id in accepted)
        {
            var worker = new FakeWorker(Client, id);
            await worker.ClaimAsync();
            await worker.CompleteAsync();
        }

        var after = await GetBatchAsync(batchId);
        Assert.True(after.GetProperty("done").GetBoolean());
        Assert.Equal(accepted.Count, after.GetProperty("counts").GetProperty(DocumentStatus.Completed).GetInt32());
        Assert.Equal(20 - accepted.Count, after.GetProperty("counts").GetProperty("refused").GetInt32());
        var listed = after.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(files.Select(f => f.Name), listed.Select(i => i.GetProperty("fileName").GetString()));
        Assert.Equal(accepted, listed.Where(i => i.TryGetProperty("documentId", out _)).Select(i => i.GetProperty("documentId").GetString()));
        Assert.Equal("unsupported_format", listed[3].GetProperty("problem").GetProperty("code").GetString());
    }

    [Fact]
    [Trait("Req", "LS-6")]
    public async Task A_batch_over_its_file_count_or_byte_bound_is_refused_and_nothing_is_stored()
    {
        var documents = CountDocuments();
        var tooMany = Enumerable.Range(0, MaxFiles + 1).Select(i => ($"f{i}.pdf", Api.MinimalPdf, (string?)null)).ToList();
        using (var response = await SendBatchAsync(tooMany))
        {
            var problem = await Api.AssertProblemAsync(response, 400, "too_many_files");
            Assert.Equal(MaxFiles, problem.GetProperty("maxFiles").GetInt32());
        }

        // Each file within its own limit, together over the batch's.
        var tooBig = Enumerable.Range(0, 6).Select(i => ($"b{i}.pdf", BigPdf(190 * 1024), (string?)null)).ToList();
        using (var response = await SendBatchAsync(tooBig))
        {
            await Api.AssertProblemAsync(response, 413, "batch_too_large");
        }

        // The same without a Content-Length: refused while it streams.
        using (var response = await SendBatchAsync(tooBig, chunked: true))
        {
            await Api.AssertProblemAsync(response, 413, "batch_too_large");
        }

        using (var response = await SendBatchAsync([("ok.pdf", Api.MinimalPdf, null)], ("ocr", "sometimes")))
        {
            var problem = await Api.AssertProblemAsync(response, 400, "invalid_option");
            Assert.Equal("ocr", problem.GetProperty("field").GetString());
        }

        Assert.Equal(documents, CountDocuments());
        Assert.Empty(Directory.GetFiles(_host.UploadsDir));
        await Eventually.UntilAsync(() => Directory.GetFiles(_host.TempDir).Length == 0, TimeSpan.FromSeconds(5), "no temp file is left");
    }

    private async Task<HttpResponseMessage> SendBatchAsync(
        IEnumerable<(string Name, byte[] Content, string? Code)> files, params (string Name, string Value)[] fields) =>
        await SendBatchAsync(files, chunked: false, fields);

    private async Task<HttpResponseMessage> SendBatchAsync(
        IEnumerable<(string Name, byte[] Content, string? Code)> files, bool chunked, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        foreach (var (name, content, _) in files)
        {
            var part = new ByteArrayContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", name);
        }

        if (!chunked)
        {
            return await Client.PostAsync("/api/batches", form);
        }

        // A stream of unknown length: the service cannot refuse it up front and must stop it while it streams.
        using var buffer = new MemoryStream();
        await form.CopyToAsync(buffer);
        buffer.Position = 0;
        using var streamed = new StreamContent(new UnknownLengthStream(buffer));
        streamed.Headers.ContentType = form.Headers.ContentType;
        return await Client.PostAsync("/api/batches", streamed);
    }

    private async Task<JsonElement> GetBatchAsync(string id)
    {
        using var response = await Client.GetAsync($"/api/batches/{id}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private long CountDocuments()
    {
        using var connection = _host.OpenCatalog();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM documents";
        return (long)command.ExecuteScalar()!;
    }

    private static byte[] RandomBytes(int seed)
    {
        var bytes = new byte[2048];
        new Random(seed).NextBytes(bytes);
        bytes[0] = 0x01; // never a magic number the sniffer knows
        return bytes;
    }

    /// <summary>A PDF header followed by padding: over Ingest:MaxUploadBytes unless told otherwise.</summary>
    private static byte[] BigPdf(int size = 300 * 1024)
    {
        var bytes = new byte[size];
        Encoding.ASCII.GetBytes("%PDF-1.4\n").CopyTo(bytes, 0);
        bytes.AsSpan(9).Fill((byte)' ');
        return bytes;
    }

    /// <summary>A stream whose length is not known, so the client sends it chunked.</summary>
    private sealed class UnknownLengthStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
