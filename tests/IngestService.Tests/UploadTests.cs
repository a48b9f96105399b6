using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Suite.Contracts;
using Suite.Testing;

namespace IngestService.Tests;

[Collection("ingest")]
public sealed class UploadTests(IngestFixture fixture)
{
    private HttpClient Client => fixture.Client;

    [Theory]
    [Trait("Req", "IN-1")]
    [InlineData("sf__minimal-document.pdf")]
    [InlineData("pdfplumber__senate-expenditures.pdf")]
    public async Task A_corpus_pdf_is_accepted_stored_catalogued_and_enqueued(string corpusName)
    {
        var bytes = await File.ReadAllBytesAsync(RepoPaths.CorpusFile(corpusName));
        using var response = await Api.UploadAsync(Client, bytes, corpusName);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Api.JsonAsync(response);
        var id = body.GetProperty("id").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal($"/api/documents/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(corpusName, body.GetProperty("fileName").GetString());
        Assert.Equal("queued", body.GetProperty("status").GetString());
        Assert.Equal(bytes.Length, body.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), body.GetProperty("sha256").GetString());
        Assert.True(body.TryGetProperty("createdAt", out _));
        Assert.Equal($"/api/documents/{id}", body.GetProperty("links").GetProperty("self").GetString());
        Assert.Equal($"/api/documents/{id}/result", body.GetProperty("links").GetProperty("result").GetString());

        // The blob is byte-identical, under the id, not the client's name.
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(fixture.Host.UploadsDir, id + ".pdf")));

        // The catalog row, with every stage pending, and the job in the stream (read back with XRANGE).
        using var detail = await Client.GetAsync($"/api/documents/{id}");
        Assert.Equal(HttpStatusCode.OK, detail.StatusCode);
        var document = await Api.JsonAsync(detail);
        Assert.Equal("queued", document.GetProperty("status").GetString());
        Assert.Equal(PipelineStageNames.All, document.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.All(document.GetProperty("stages").EnumerateArray(), s => Assert.Equal("pending", s.GetProperty("status").GetString()));
        Assert.False(document.TryGetProperty("error", out _));

        var entries = await Api.JobEntriesAsync(fixture.RedisClient, id);
        var entry = Assert.Single(entries);
        Assert.True(DateTimeOffset.TryParse(entry[JobStreams.EnqueuedAtField].ToString(), System.Globalization.CultureInfo.InvariantCulture, out _));

        using var catalog = fixture.Host.OpenCatalog();
        using var select = catalog.CreateCommand();
        select.CommandText = "SELECT enqueued_at, job_entry_id FROM documents WHERE id = @id";
        select.Parameters.AddWithValue("@id", id);
        using var reader = select.ExecuteReader();
        Assert.True(reader.Read());
        Assert.False(reader.IsDBNull(0));
        Assert.Equal(entry.Id.ToString(), reader.GetString(1));
    }

    [Fact]
    [Trait("Req", "IN-1")]
    public async Task A_plain_text_file_named_pdf_with_a_pdf_content_type_is_refused_as_unsupported()
    {
        var text = Encoding.UTF8.GetBytes("This is plain text pretending to be a PDF.\n" + new string('x', 9000));
        using var response = await Api.UploadAsync(Client, text, "x.pdf", "application/pdf");

        var problem = await Api.AssertProblemAsync(response, 415, "unsupported_format");
        Assert.Contains("PDF, PNG, JPEG, TIFF, WebP, DOCX, PPTX, HTML or Markdown", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("markdown", problem.GetProperty("formats").EnumerateArray().Select(f => f.GetString()));
        AssertNoTempFiles();
    }

    [Fact]
    [Trait("Req", "IN-1")]
    public async Task A_short_file_without_the_signature_is_refused_as_unsupported()
    {
        using var response = await Api.UploadAsync(Client, "hello"u8.ToArray(), "tiny.pdf");
        await Api.AssertProblemAsync(response, 415, "unsupported_format");
    }

    [Fact]
    [Trait("Req", "IN-1")]
    public async Task A_pdf_uploaded_with_a_wrong_name_and_content_type_is_accepted_by_its_magic_bytes()
    {
        using var response = await Api.UploadAsync(Client, Api.MinimalPdf, "notes.txt", "text/plain");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    [Trait("Req", "IN-1")]
    public async Task A_pdf_with_leading_junk_before_the_header_is_accepted()
    {
        using var response = await Api.UploadCorpusAsync(Client, "qpdf__leading-junk.pdf");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    [Trait("Req", "IN-1")]
    public async Task A_signature_after_the_first_1024_bytes_is_not_enough()
    {
        var junk = new byte[2048];
        Array.Fill(junk, (byte)'j');
        using var response = await Api.UploadAsync(Client, [.. junk, .. Api.MinimalPdf], "late-header.pdf");
        await Api.AssertProblemAsync(response, 415, "unsupported_format");
    }

    [Fact]
    [Trait("Req", "IN-3")]
    public async Task An_empty_file_is_refused_with_empty_file()
    {
        using var response = await Api.UploadAsync(Client, [], "empty.pdf");
        await Api.AssertProblemAsync(response, 400, "empty_file");
        AssertNoTempFiles();
    }

    [Fact]
    public async Task A_multipart_body_without_a_file_part_is_refused_naming_the_field()
    {
        using var form = new MultipartFormDataContent { { new StringContent("hello"), "comment" } };
        var other = new ByteArrayContent(Api.MinimalPdf);
        form.Add(other, "document", "a.pdf");
        using var response = await Client.PostAsync("/api/documents", form);

        var problem = await Api.AssertProblemAsync(response, 400, "missing_file");
        Assert.Contains("'file'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("file", problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_is_refused_with_missing_file()
    {
        using var content = new ByteArrayContent(Api.MinimalPdf);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        using var response = await Client.PostAsync("/api/documents", content);
        await Api.AssertProblemAsync(response, 400, "missing_file");
    }

    [Fact]
    public async Task A_multipart_body_cut_short_is_refused_and_leaves_no_temp_file()
    {
        var boundary = "cutshort";
        var head = Encoding.ASCII.GetBytes(
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.pdf\"\r\nContent-Type: application/pdf\r\n\r\n");
        using var content = new ByteArrayContent([.. head, .. Api.MinimalPdf.AsSpan(0, 4000)]);
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={boundary}");
        using var response = await Client.PostAsync("/api/documents", content);

        await Api.AssertProblemAsync(response, 400, "malformed_multipart");
        AssertNoTempFiles();
    }

    [Fact]
    [Trait("Req", "LS-6")]
    public async Task A_file_over_the_size_limit_is_refused_with_413_and_leaves_no_temp_file()
    {
        var uploadsBefore = Directory.GetFiles(fixture.Host.UploadsDir).Length;
        var big = new byte[(int)IngestFixture.MaxUploadBytes + 1];
        "%PDF-1.7\n"u8.CopyTo(big);
        using var response = await Api.UploadAsync(Client, big, "big.pdf");

        var problem = await Api.AssertProblemAsync(response, 413, "file_too_large");
        Assert.Equal(IngestFixture.MaxUploadBytes, problem.GetProperty("maxBytes").GetInt64());
        AssertNoTempFiles();
        Assert.Equal(uploadsBefore, Directory.GetFiles(fixture.Host.UploadsDir).Length);
    }

    [Fact]
    [Trait("Req", "LS-6")]
    [Trait("Req", "IN-6")]
    public async Task A_huge_upload_is_refused_while_streaming_without_reading_it_all()
    {
        // 1 GiB produced lazily: the service must stop reading right after the limit, not buffer the whole body.
        var body = new CountingPdfContent(1L << 30);
        using var form = new MultipartFormDataContent();
        form.Add(body, "file", "huge.pdf");
        using var response = await Client.PostAsync("/api/documents", form);

        await Api.AssertProblemAsync(response, 413, "file_too_large");
        Assert.True(body.Produced < 64L * 1024 * 1024, $"the service pulled {body.Produced} bytes of a 1 GiB upload");
        AssertNoTempFiles();
    }

    [Fact]
    [Trait("Req", "IN-8")]
    [Trait("Req", "IN-2")]
    public async Task A_hostile_file_name_round_trips_intact_and_the_catalog_survives()
    {
        const string hostile = "'); DROP TABLE documents;--.pdf";
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, hostile);

        using var response = await Client.GetAsync($"/api/documents/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(hostile, (await Api.JsonAsync(response)).GetProperty("fileName").GetString());

        using var list = await Client.GetAsync("/api/documents?limit=5");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains((await Api.JsonAsync(list)).GetProperty("items").EnumerateArray(), i => i.GetProperty("fileName").GetString() == hostile);
        Assert.True(File.Exists(Path.Combine(fixture.Host.UploadsDir, id + ".pdf")));
    }

    [Theory]
    [Trait("Req", "IN-2")]
    [InlineData("../../../etc/passwd.pdf", "passwd.pdf")]
    [InlineData("..\\..\\windows\\evil.pdf", "evil.pdf")]
    [InlineData("/absolute/path/report.pdf", "report.pdf")]
    [InlineData("..", "upload.pdf")]
    public async Task A_path_in_the_file_name_is_reduced_to_a_display_name_and_never_used_as_a_path(string clientName, string shown)
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, clientName);

        using var response = await Client.GetAsync($"/api/documents/{id}");
        Assert.Equal(shown, (await Api.JsonAsync(response)).GetProperty("fileName").GetString());
        Assert.True(File.Exists(Path.Combine(fixture.Host.UploadsDir, id + ".pdf")));
        Assert.False(File.Exists(Path.Combine(fixture.Host.Root, "..", "etc", "passwd.pdf")));
        Assert.Empty(Directory.EnumerateFiles(fixture.Host.Root, "*evil*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("not-an-id")]
    [InlineData("..%2F..%2Fcatalog.db")]
    public async Task An_unknown_or_malformed_id_is_404_document_not_found(string id)
    {
        using var response = await Client.GetAsync($"/api/documents/{id}");
        await Api.AssertProblemAsync(response, 404, "document_not_found");

        using var result = await Client.GetAsync($"/api/documents/{id}/result");
        await Api.AssertProblemAsync(result, 404, "document_not_found");
    }

    private void AssertNoTempFiles() =>
        Assert.Empty(Directory.EnumerateFiles(fixture.Host.TempDir));

    /// <summary>A PDF-looking body of a given size, generated as it is read, counting what the server pulled.</summary>
    private sealed class CountingPdfContent(long length) : HttpContent
    {
        public long Produced { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var chunk = new byte[64 * 1024];
            "%PDF-1.7\n"u8.CopyTo(chunk);
            try
            {
                while (Produced < length)
                {
                    await stream.WriteAsync(chunk);
                    Produced += chunk.Length;
                    chunk.AsSpan(0, 9).Clear();
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // The server stopped reading: exactly what is being tested.
            }
        }

        protected override bool TryComputeLength(out long computed)
        {
            computed = -1;
            return false;
        }
    }
}
