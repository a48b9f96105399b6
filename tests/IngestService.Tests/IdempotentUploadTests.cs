using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace IngestService.Tests;

/// <summary>Idempotency-Key and duplicate content on the real service (Req IN-9).</summary>
[Collection("ingest")]
public sealed class IdempotentUploadTests(IngestFixture fixture)
{
    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, byte[] content, string? key, string? clientName = null)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", "keyed.pdf");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/documents", UriKind.Relative)) { Content = form };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        if (clientName is not null)
        {
            request.Headers.Add("X-Suite-Client", clientName);
        }

        return await client.SendAsync(request);
    }

    /// <summary>The minimal PDF with a unique trailing comment, so each test has content no other test uploaded.</summary>
    private static byte[] UniquePdf() => [.. Api.MinimalPdf, .. Encoding.ASCII.GetBytes($"\n%{Guid.NewGuid():N}\n")];

    private long CountDocuments(string sha256)
    {
        using var catalog = fixture.Host.OpenCatalog();
        using var count = catalog.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM documents WHERE sha256 = @sha";
        count.Parameters.AddWithValue("@sha", sha256);
        return (long)count.ExecuteScalar()!;
    }

    [Fact]
    [Trait("Req", "IN-9")]
    public async Task A_retried_upload_with_the_same_key_and_content_gets_the_first_answer_and_creates_one_document()
    {
        var content = UniquePdf();
        var key = Guid.NewGuid().ToString();
        using var first = await UploadAsync(fixture.Client, content, key);
        using var retry = await UploadAsync(fixture.Client, content, key);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var firstBody = await Api.JsonAsync(first);
        var retryBody = await Api.JsonAsync(retry);
        var id = firstBody.GetProperty("id").GetString();
        Assert.Equal(id, retryBody.GetProperty("id").GetString());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, CountDocuments(firstBody.GetProperty("sha256").GetString()!));
        Assert.Single(Directory.GetFiles(fixture.Host.UploadsDir, id + ".*"));
    }

    [Fact]
    [Trait("Req", "IN-9")]
    public async Task The_same_key_with_different_content_is_refused_with_422_and_stores_nothing()
    {
        var key = Guid.NewGuid().ToString();
        using var first = await UploadAsync(fixture.Client, UniquePdf(), key);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var blobs = Directory.GetFiles(fixture.Host.UploadsDir).Length;
        var other = UniquePdf();

        using var reused = await UploadAsync(fixture.Client, other, key);

        var problem = await Api.AssertProblemAsync(reused, 422, "idempotency_key_reused");
        Assert.Equal((await Api.JsonAsync(first)).GetProperty("id").GetString(), problem.GetProperty("documentId").GetString());
        Assert.Equal(blobs, Directory.GetFiles(fixture.Host.UploadsDir).Length);
        Assert.Equal(0, CountDocuments(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(other))));
    }

    [Fact]
    [Trait("Req", "IN-9")]
    public async Task Concurrent_uploads_with_one_key_create_exactly_one_document()
    {
        var content = UniquePdf();
        var key = Guid.NewGuid().ToString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => UploadAsync(fixture.Client, content, key)));

        var ids = new HashSet<string>();
        foreach (var response in responses)
        {
            using (response)
            {
                // 409 idempotency_key_in_progress is the honest answer while the first one is still being stored.
                Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict, $"answered {(int)response.StatusCode}");
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    ids.Add((await Api.JsonAsync(response)).GetProperty("id").GetString()!);
                }
                else
                {
                    await Api.AssertProblemAsync(response, 409, "idempotency_key_in_progress");
                    Assert.NotNull(response.Headers.RetryAfter);
                }
            }
        }

        Assert.Single(ids);
        Assert.Equal(1, CountDocuments(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content))));
    }

    [Fact]
    [Trait("Req", "IN-9")]
    public async Task Keys_belong_to_a_client_so_two_clients_may_use_the_same_key()
    {
        var content = UniquePdf();
        var key = Guid.NewGuid().ToString();
        using var alice = await UploadAsync(fixture.Client, content, key, "alice");
        using var bob = await UploadAsync(fixture.Client, content, key, "bob");

        Assert.NotEqual((await Api.JsonAsync(alice)).GetProperty("id").GetString(), (await Api.JsonAsync(bob)).GetProperty("id").GetString());
    }

    [Fact]
    [Trait("Req", "IN-9")]
    public async Task Duplicate_content_without_a_key_creates_a_new_document_that_names_the_one_it_duplicates()
    {
        var content = UniquePdf();
        using var first = await UploadAsync(fixture.Client, content, key: null);
        using var second = await UploadAsync(fixture.Client, content, key: null);
        using var third = await UploadAsync(fixture.Client, content, key: null);

        var firstBody = await Api.JsonAsync(first);
        var firstId = firstBody.GetProperty("id").GetString();
        Assert.False(firstBody.TryGetProperty("duplicateOf", out _));
        var secondBody = await Api.JsonAsync(second);
        Assert.NotEqual(firstId, secondBody.GetProperty("id").GetString());
        Assert.Equal(firstId, secondBody.GetProperty("duplicateOf").GetString());
        Assert.Equal(firstId, (await Api.JsonAsync(third)).GetProperty("duplicateOf").GetString());
        Assert.Equal(3, CountDocuments(firstBody.GetProperty("sha256").GetString()!));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("é-not-ascii")]
    [Trait("Req", "IN-9")]
    [Trait("Req", "ERR-3")]
    public async Task An_unusable_key_is_refused_with_400_naming_the_header(string key)
    {
        var before = Directory.GetFiles(fixture.Host.UploadsDir).Length;
        using var response = await UploadAsync(fixture.Client, UniquePdf(), key);

        var problem = await Api.AssertProblemAsync(response, 400, "invalid_idempotency_key");
        Assert.Equal("Idempotency-Key", problem.GetProperty("header").GetString());
        Assert.Equal(before, Directory.GetFiles(fixture.Host.UploadsDir).Length);
    }

    [Fact]
    [Trait("Req", "IN-9")]
    public async Task A_too_long_key_is_refused()
    {
        using var response = await UploadAsync(fixture.Client, UniquePdf(), new string('k', 201));
        await Api.AssertProblemAsync(response, 400, "invalid_idempotency_key");
    }
}
