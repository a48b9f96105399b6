using System.Net;
using System.Net.Http.Headers;
using Microsoft.Data.Sqlite;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// kill -9 of IngestService (a real child process) between an expired document's tombstone and the removal of its
/// files: after the restart the sweeper finishes the removal, and the document answered 410 throughout.
/// </summary>
public sealed class RetentionCrashTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private string _root = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync(appendOnly: false);
        _root = Directory.CreateTempSubdirectory("ingest-retention-crash-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    [Trait("Req", "OUT-2")]
    [Trait("Req", "FS-3")]
    public async Task A_kill_9_in_the_middle_of_an_expiry_is_finished_by_the_sweeper_after_the_restart()
    {
        var settings = new Dictionary<string, string>
        {
            ["Retention__SweepIntervalSeconds"] = "1",
        };
        var paused = new Dictionary<string, string>(settings)
        {
            // The test hook holds the sweeper between the tombstone and the files (allowed only like this).
            ["Retention__TestPauseAfterTombstoneMs"] = "600000",
            ["SUITE_ALLOW_FAULT_INJECTION"] = "1",
            ["DOTNET_ENVIRONMENT"] = "Testing",
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
        };

        string id;
        await using (var first = await IngestProcess.StartAsync(_root, _redis.ConnectionString, paused))
        {
            using var client = first.NewClient();
            id = await UploadAsync(client, retainFor: "0");
            var worker = new FakeWorker(client, id);
            await worker.ClaimAsync();
            await worker.CompleteAsync();

            await Eventually.UntilAsync(() => TombstoneState(id) == "deleting", TimeSpan.FromSeconds(30), "the tombstone is written and the sweeper paused");
            using (var gone = await client.GetAsync($"/api/documents/{id}"))
            {
                await Api.AssertProblemAsync(gone, 410, "document_expired");
            }

            await first.KillAsync();
        }

        // Half done: the row is a tombstone, the files are still there.
        Assert.True(File.Exists(Path.Combine(_root, "uploads", id + ".pdf")), "the upload is still on disk after the kill");
        Assert.True(Directory.Exists(Path.Combine(_root, "results", id)), "the results are still on disk after the kill");

        await using var second = await IngestProcess.StartAsync(_root, _redis.ConnectionString, settings);
        await Eventually.UntilAsync(() => TombstoneState(id) == "deleted", TimeSpan.FromSeconds(30), "the sweeper finishes the removal");
        Assert.False(File.Exists(Path.Combine(_root, "uploads", id + ".pdf")));
        Assert.False(Directory.Exists(Path.Combine(_root, "results", id)));
        Assert.False(Directory.Exists(Path.Combine(_root, "checkpoints", id)));
        using var again = second.NewClient();
        using var response = await again.GetAsync($"/api/documents/{id}");
        await Api.AssertProblemAsync(response, 410, "document_expired");
        Assert.Contains(second.Lines, l => l.Contains("Finishing the interrupted removal", StringComparison.Ordinal) && l.Contains(id, StringComparison.Ordinal));
    }

    private static async Task<string> UploadAsync(HttpClient client, string retainFor)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(retainFor), "retainFor");
        var file = new ByteArrayContent(Api.MinimalPdf);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", "expiring.pdf");
        using var response = await client.PostAsync("/api/documents", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private string? TombstoneState(string id)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_root, "catalog.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state FROM tombstones WHERE id = @id";
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteScalar() as string;
    }
}
