using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Suite.Contracts;

namespace IngestService.Tests;

/// <summary>
/// Per-request pipeline options (Req FMT-4, ERR-3) against the real service, SQLite catalog, redis-server and the local
/// tesseract (its installed languages): validated field by field with the field named and nothing stored on refusal,
/// kept with the document, echoed, handed to the worker in the claim, and part of what a checkpoint belongs to.
/// </summary>
[Collection("ingest")]
public sealed class UploadOptionsTests(IngestFixture fixture)
{
    private HttpClient Client => fixture.Client;

    /// <summary>The minimal PDF with a unique trailing comment, so each test has content no other test uploaded.</summary>
    private static byte[] UniquePdf() => [.. Api.MinimalPdf, .. Encoding.ASCII.GetBytes($"\n%{Guid.NewGuid():N}\n")];

    /// <summary>A multipart upload with <paramref name="before"/> as fields ahead of the file part and <paramref name="after"/> behind it.</summary>
    private Task<HttpResponseMessage> UploadAsync(
        (string Name, string Value)[] before, (string Name, string Value)[]? after = null, string? idempotencyKey = null, byte[]? content = null)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, value) in before)
        {
            form.Add(new StringContent(value), name);
        }

        var file = new ByteArrayContent(content ?? UniquePdf());
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", "options.pdf");
        foreach (var (name, value) in after ?? [])
        {
            form.Add(new StringContent(value), name);
        }

        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/documents", UriKind.Relative)) { Content = form };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return Client.SendAsync(request);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task Options_before_and_after_the_file_are_stored_with_the_document_and_echoed_in_the_answer_the_status_and_the_claim()
    {
        using var response = await UploadAsync(
            [("ocr", "force"), ("ocrLanguages", "eng+deu"), ("pageRange", " 2-3, 5- ")],
            [("images", "embedded"), ("tables", "off"), ("DescribePictures", "off")]);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        var accepted = JsonDocument.Parse(body).RootElement;
        var id = accepted.GetProperty("id").GetString()!;
        var expected = new DocumentOptions
        {
            Ocr = "force", OcrLanguages = "eng+deu", PageRange = "2-3,5-", Images = "embedded", Tables = "off", DescribePictures = "off",
        };
        Assert.Equal(expected, accepted.GetProperty("options").Deserialize<DocumentOptions>(JsonSerializerOptions.Web));

        using var detail = await Client.GetAsync(new Uri($"/api/documents/{id}", UriKind.Relative));
        Assert.Equal(expected, (await Api.JsonAsync(detail)).GetProperty("options").Deserialize<DocumentOptions>(JsonSerializerOptions.Web));
        Assert.Equal(expected, DocumentOptions.FromJson(CatalogOptions(id)));

        var claim = await ClaimAsync(id, "options-worker");
        Assert.Equal(expected, claim.Options);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task An_upload_without_options_has_the_defaults_echoed_without_languages_or_range()
    {
        using var response = await UploadAsync([]);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var options = (await Api.JsonAsync(response)).GetProperty("options");
        Assert.Equal("auto", options.GetProperty("ocr").GetString());
        Assert.Equal("referenced", options.GetProperty("images").GetString());
        Assert.Equal("on", options.GetProperty("tables").GetString());
        Assert.Equal("on", options.GetProperty("describePictures").GetString());
        Assert.False(options.TryGetProperty("ocrLanguages", out _));
        Assert.False(options.TryGetProperty("pageRange", out _));
    }

    [Theory]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "ERR-3")]
    [InlineData("ocr", "sometimes", true, "auto,force,off")]
    [InlineData("ocr", "FORCE", false, "auto,force,off")]
    [InlineData("images", "inline", true, "referenced,embedded,none")]
    [InlineData("tables", "yes", false, "on,off")]
    [InlineData("describePictures", "true", true, "on,off")]
    [InlineData("pageRange", "3-1", true, null)]
    [InlineData("pageRange", "0", false, null)]
    [InlineData("pageRange", "two", true, null)]
    [InlineData("pageRange", "1,,2", false, null)]
    [InlineData("ocrLanguages", "klingon", true, "deu,eng,fra,spa")]
    [InlineData("ocrLanguages", "eng+", false, "deu,eng,fra,spa")]
    public async Task A_bad_option_value_is_refused_with_400_invalid_option_naming_the_field_and_nothing_is_stored(
        string field, string value, bool beforeTheFile, string? allowed)
    {
        var key = Guid.NewGuid().ToString("N");
        await AssertStoresNothingAsync(async () =>
        {
            (string, string)[] fields = [(field, value)];
            using var response = beforeTheFile ? await UploadAsync(fields, idempotencyKey: key) : await UploadAsync([], fields, idempotencyKey: key);
            var problem = await Api.AssertProblemAsync(response, 400, "invalid_option");
            Assert.Equal(field, problem.GetProperty("field").GetString());
            if (allowed is not null)
            {
                var listed = problem.GetProperty("allowed").EnumerateArray().Select(a => a.GetString()!).ToList();
                Assert.All(allowed.Split(','), a => Assert.Contains(a, listed));
            }
        });

        // The key was not consumed: the same key with good options makes a new document, not a replay.
        using var retry = await UploadAsync([], idempotencyKey: key);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
    }

    [Theory]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "ERR-3")]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_unknown_field_is_refused_with_400_unknown_option_naming_it_and_nothing_is_stored(bool beforeTheFile)
    {
        await AssertStoresNothingAsync(async () =>
        {
            (string, string)[] fields = [("ocr", "auto"), ("language", "deu")];
            using var response = beforeTheFile ? await UploadAsync(fields) : await UploadAsync([], fields);
            var problem = await Api.AssertProblemAsync(response, 400, "unknown_option");
            Assert.Equal("language", problem.GetProperty("field").GetString());
            Assert.Contains("ocrLanguages", problem.GetProperty("allowed").EnumerateArray().Select(a => a.GetString()));
        });
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "ERR-3")]
    public async Task An_option_given_twice_is_refused_naming_it()
    {
        await AssertStoresNothingAsync(async () =>
        {
            using var response = await UploadAsync([("tables", "on")], [("Tables", "off")]);
            var problem = await Api.AssertProblemAsync(response, 400, "invalid_option");
            Assert.Equal("tables", problem.GetProperty("field").GetString());
        });
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "IN-9")]
    public async Task A_replay_with_the_same_key_and_options_gets_the_first_answer_and_other_options_are_refused()
    {
        var content = UniquePdf();
        var key = Guid.NewGuid().ToString("N");
        using var first = await UploadAsync([("tables", "off")], idempotencyKey: key, content: content);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var id = (await Api.JsonAsync(first)).GetProperty("id").GetString();

        using (var same = await UploadAsync([("tables", "off")], idempotencyKey: key, content: content))
        {
            Assert.Equal(HttpStatusCode.Accepted, same.StatusCode);
            Assert.Equal("true", same.Headers.GetValues("Idempotent-Replayed").Single());
            Assert.Equal(id, (await Api.JsonAsync(same)).GetProperty("id").GetString());
        }

        await AssertStoresNothingAsync(async () =>
        {
            using var other = await UploadAsync([("tables", "on"), ("ocr", "force")], idempotencyKey: key, content: content);
            var problem = await Api.AssertProblemAsync(other, 422, "idempotency_key_reused");
            Assert.Equal(id, problem.GetProperty("documentId").GetString());
            Assert.Contains("options", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        });
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task The_languages_endpoint_lists_what_the_local_tesseract_has_installed()
    {
        using var response = await Client.GetAsync(new Uri("/api/ocr/languages", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Api.JsonAsync(response);
        Assert.Equal("tesseract", body.GetProperty("source").GetString());
        var listed = body.GetProperty("languages").EnumerateArray().Select(l => l.GetString()!).ToList();

        // The same list tesseract prints (its header line and osd left out); .ci/prereqs installs eng, deu, fra, spa.
        var start = new ProcessStartInfo("tesseract", "--list-langs") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var printed = (await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync())
            .Split('\n', StringSplitOptions.TrimEntries)
            .Where(l => l.Length > 0 && !l.Contains(' ', StringComparison.Ordinal) && l != "osd")
            .Order(StringComparer.Ordinal);
        await process.WaitForExitAsync();
        Assert.Equal(printed, listed);
        Assert.All(["eng", "deu", "fra", "spa"], l => Assert.Contains(l, listed));
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "CK-5")]
    public async Task A_claim_lists_and_a_download_serves_only_checkpoints_made_under_the_documents_options()
    {
        using var response = await UploadAsync([("pageRange", "1")]);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await Api.JsonAsync(response)).GetProperty("id").GetString()!;
        var claim = await ClaimAsync(id, "fingerprint-worker");
        var own = claim.Options!.Fingerprint();
        var other = DocumentOptions.Default.Fingerprint();
        Assert.NotEqual(own, other);

        // validate under other options (the defaults), extract under the document's own.
        await PutCheckpointAsync(id, PipelineStageNames.Validate, claim.LeaseToken, other);
        await PutCheckpointAsync(id, PipelineStageNames.Extract, claim.LeaseToken, own);

        var reclaim = await ClaimAsync(id, "fingerprint-worker");
        Assert.Equal([PipelineStageNames.Extract], reclaim.CheckpointedStages);
        using (var foreign = await GetCheckpointAsync(id, PipelineStageNames.Validate, reclaim.LeaseToken, own))
        {
            await Api.AssertProblemAsync(foreign, 404, "checkpoint_not_found");
        }

        using var mine = await GetCheckpointAsync(id, PipelineStageNames.Extract, reclaim.LeaseToken, own);
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
    }

    private async Task PutCheckpointAsync(string id, string stage, long lease, string fingerprint)
    {
        using var request = Api.WithLease(HttpMethod.Put, InternalApi.Checkpoint(id, stage), lease, new ByteArrayContent("{}"u8.ToArray()));
        request.Headers.Add(InternalApi.CheckpointOptionsHeader, fingerprint);
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private async Task<HttpResponseMessage> GetCheckpointAsync(string id, string stage, long lease, string fingerprint)
    {
        using var request = Api.WithLease(HttpMethod.Get, InternalApi.Checkpoint(id, stage), lease);
        request.Headers.Add(InternalApi.CheckpointOptionsHeader, fingerprint);
        return await Client.SendAsync(request);
    }

    private async Task<ClaimResponse> ClaimAsync(string id, string worker)
    {
        using var response = await Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest(worker));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<ClaimResponse>(text, JsonSerializerOptions.Web)!;
    }

    private string? CatalogOptions(string id)
    {
        using var catalog = fixture.Host.OpenCatalog();
        using var select = catalog.CreateCommand();
        select.CommandText = "SELECT options FROM documents WHERE id = @id";
        select.Parameters.AddWithValue("@id", id);
        return select.ExecuteScalar() as string;
    }

    private long Count(string sql)
    {
        using var catalog = fixture.Host.OpenCatalog();
        using var count = catalog.CreateCommand();
        count.CommandText = sql;
        return (long)count.ExecuteScalar()!;
    }

    /// <summary>Runs <paramref name="refused"/> and checks that it stored nothing: no row, no key, no upload or temp file, no job.</summary>
    private async Task AssertStoresNothingAsync(Func<Task> refused)
    {
        var documents = Count("SELECT COUNT(*) FROM documents");
        var keys = Count("SELECT COUNT(*) FROM upload_keys");
        var uploads = Directory.GetFiles(fixture.Host.UploadsDir).Length;
        var jobs = await fixture.RedisClient.GetDatabase().StreamLengthAsync(JobStreams.Jobs);
        await refused();
        Assert.Equal(documents, Count("SELECT COUNT(*) FROM documents"));
        Assert.Equal(keys, Count("SELECT COUNT(*) FROM upload_keys"));
        Assert.Equal(uploads, Directory.GetFiles(fixture.Host.UploadsDir).Length);
        Assert.Empty(Directory.EnumerateFileSystemEntries(fixture.Host.TempDir));
        Assert.Equal(jobs, await fixture.RedisClient.GetDatabase().StreamLengthAsync(JobStreams.Jobs));
    }
}
