using System.Net;
using Suite.Contracts;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// The upload's job priority (Req LS-2) against the real service, SQLite catalog and redis-server: refused when
/// unknown with nothing stored, kept on the catalog row, shown in the API, and every job of the document (upload and
/// manual retry) added to that priority's stream.
/// </summary>
[Collection("ingest")]
public sealed class PriorityTests(IngestFixture fixture)
{
    private HttpClient Client => fixture.Client;

    [Theory]
    [Trait("Req", "LS-2")]
    [InlineData("priority=urgent", "urgent")]
    [InlineData("priority=", "")]
    [InlineData("priority=Batch", "Batch")]
    [InlineData("priority=batch&priority=interactive", "batch,interactive")]
    public async Task An_unknown_priority_is_refused_as_invalid_priority_naming_the_parameter_and_nothing_is_stored(string query, string sent)
    {
        var rowsBefore = CatalogRows();
        var uploadsBefore = Directory.GetFiles(fixture.Host.UploadsDir).Length;
        var jobsBefore = await JobCountAsync();

        using var response = await Api.UploadAsync(Client, Api.MinimalPdf, "priority.pdf", query: query);

        var problem = await Api.AssertProblemAsync(response, 400, "invalid_priority");
        Assert.Equal("priority", problem.GetProperty("parameter").GetString());
        Assert.Equal(["interactive", "batch"], problem.GetProperty("allowed").EnumerateArray().Select(a => a.GetString()));
        Assert.Contains($"it was '{sent}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(rowsBefore, CatalogRows());
        Assert.Equal(uploadsBefore, Directory.GetFiles(fixture.Host.UploadsDir).Length);
        Assert.Empty(Directory.EnumerateFileSystemEntries(fixture.Host.TempDir));
        Assert.Equal(jobsBefore, await JobCountAsync());
    }

    [Fact]
    [Trait("Req", "LS-2")]
    public async Task A_batch_upload_is_stored_shown_and_enqueued_on_the_batch_stream_and_so_is_its_retry()
    {
        using var response = await Api.UploadAsync(Client, Api.MinimalPdf, "bulk.pdf", query: "priority=batch");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await Api.JsonAsync(response);
        Assert.Equal("batch", accepted.GetProperty("priority").GetString());
        var id = accepted.GetProperty("id").GetString()!;

        Assert.Equal("batch", CatalogPriority(id));
        Assert.Equal("batch", await PriorityShownAsync(id));
        var entry = Assert.Single(await Api.JobEntriesAsync(fixture.RedisClient, id, JobStreams.BatchJobs));
        Assert.Equal("batch", entry[JobStreams.PriorityField].ToString());
        Assert.Empty(await Api.JobEntriesAsync(fixture.RedisClient, id, JobStreams.Jobs));

        // Cancelled and retried by hand: the new job goes to the batch stream again.
        using (var cancel = await Client.DeleteAsync($"/api/documents/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        }

        using (var retry = await Client.PostAsync($"/api/documents/{id}/retry", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            Assert.Equal("batch", (await Api.JsonAsync(retry)).GetProperty("priority").GetString());
        }

        Assert.Equal(2, (await Api.JobEntriesAsync(fixture.RedisClient, id, JobStreams.BatchJobs)).Length);
        Assert.Empty(await Api.JobEntriesAsync(fixture.RedisClient, id, JobStreams.Jobs));
    }

    [Theory]
    [Trait("Req", "LS-2")]
    [InlineData(null)]
    [InlineData("priority=interactive")]
    public async Task An_upload_without_priority_or_marked_interactive_is_interactive_on_the_interactive_stream(string? query)
    {
        using var response = await Api.UploadAsync(Client, Api.MinimalPdf, "person-waiting.pdf", query: query);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await Api.JsonAsync(response);
        Assert.Equal("interactive", accepted.GetProperty("priority").GetString());
        var id = accepted.GetProperty("id").GetString()!;

        Assert.Equal("interactive", CatalogPriority(id));
        Assert.Equal("interactive", await PriorityShownAsync(id));
        var entry = Assert.Single(await Api.JobEntriesAsync(fixture.RedisClient, id, JobStreams.Jobs));
        Assert.Equal("interactive", entry[JobStreams.PriorityField].ToString());
        Assert.Empty(await Api.JobEntriesAsync(fixture.RedisClient, id, JobStreams.BatchJobs));
    }

    /// <summary>The priority in the document's detail, after checking the list shows the same.</summary>
    private async Task<string?> PriorityShownAsync(string id)
    {
        using var list = await Client.GetAsync("/api/documents?limit=100");
        var item = (await Api.JsonAsync(list)).GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetString() == id);
        using var detail = await Client.GetAsync($"/api/documents/{id}");
        var shown = (await Api.JsonAsync(detail)).GetProperty("priority").GetString();
        Assert.Equal(shown, item.GetProperty("priority").GetString());
        return shown;
    }

    private long CatalogRows()
    {
        using var catalog = fixture.Host.OpenCatalog();
        using var count = catalog.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM documents";
        return (long)count.ExecuteScalar()!;
    }

    private string? CatalogPriority(string id)
    {
        using var catalog = fixture.Host.OpenCatalog();
        using var select = catalog.CreateCommand();
        select.CommandText = "SELECT priority FROM documents WHERE id = @id";
        select.Parameters.AddWithValue("@id", id);
        return select.ExecuteScalar() as string;
    }

    private async Task<long> JobCountAsync()
    {
        var db = fixture.RedisClient.GetDatabase();
        return await db.StreamLengthAsync(JobStreams.Jobs) + await db.StreamLengthAsync(JobStreams.BatchJobs);
    }
}
