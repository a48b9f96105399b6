using System.Net;
using IngestService.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// What a crash leaves on the storage root (temp files, blobs whose catalog row was never inserted) is removed at
/// start-up and by the periodic sweep; what belongs to a known document, or is younger than the grace, stays.
/// </summary>
public sealed class OrphanSweeperTests : IAsyncLifetime
{
    private const string UnknownId = "0123456789abcdef0123456789abcdef";
    private static readonly DateTime LongAgo = DateTime.UtcNow.AddDays(-2);
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(appendOnly: false);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    [Trait("Req", "FS-1")]
    [Trait("Req", "SD-4")]
    public async Task Orphans_older_than_the_grace_are_removed_at_start_up_and_a_known_documents_files_stay()
    {
        var root = Directory.CreateTempSubdirectory("ingest-orphans-").FullName;
        var orphans = new[]
        {
            Old(Path.Combine(root, "uploads", UnknownId + ".pdf")),
            Old(Path.Combine(root, "results", UnknownId, "result.json")),
            Old(Path.Combine(root, "checkpoints", UnknownId, "extract.ckpt")),
            Old(Path.Combine(root, "artifacts", UnknownId, "pages", "1.png")),
        };
        // Not ours to judge: a name the store never makes.
        var foreign = Old(Path.Combine(root, "uploads", "notes.txt"));

        await using var host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Storage:OrphanGraceSeconds"] = "3600",
        }, root).Start();

        await Eventually.UntilAsync(() => orphans.All(p => !File.Exists(p)), TimeSpan.FromSeconds(20), "the start-up sweep removes the orphans");
        Assert.False(Directory.Exists(Path.Combine(root, "results", UnknownId)));
        Assert.False(Directory.Exists(Path.Combine(root, "artifacts", UnknownId)));
        Assert.True(File.Exists(foreign));

        // A document the catalog knows keeps its files however old they are.
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "known.pdf");
        var known = Path.Combine(root, "uploads", id + ".pdf");
        File.SetLastWriteTimeUtc(known, LongAgo);
        var fresh = Path.Combine(root, "tmp", Guid.NewGuid().ToString("N") + ".part");
        await File.WriteAllTextAsync(fresh, "an upload in flight");
        var stale = Old(Path.Combine(root, "tmp", "crashed.part"));
        var staleSibling = Old(Path.Combine(root, "results", id, ".result.json.abc.tmp"));

        var removed = await Sweeper(host).SweepOnceAsync(CancellationToken.None);

        Assert.Equal(2, removed);
        Assert.True(File.Exists(known), "a known document's upload stays");
        Assert.True(File.Exists(fresh), "a temp file younger than the grace stays");
        Assert.False(File.Exists(stale));
        Assert.False(File.Exists(staleSibling));
        using var status = await host.Client.GetAsync($"/api/documents/{id}");
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
    }

    [Fact]
    [Trait("Req", "FS-1")]
    public async Task A_sweep_that_cannot_read_the_catalog_removes_nothing()
    {
        var root = Directory.CreateTempSubdirectory("ingest-orphans-").FullName;
        var garbage = new byte[8192];
        Random.Shared.NextBytes(garbage);
        Directory.CreateDirectory(root);
        await File.WriteAllBytesAsync(Path.Combine(root, "catalog.db"), garbage);
        var orphan = Old(Path.Combine(root, "uploads", UnknownId + ".pdf"));

        await using var host = IngestHost.Create(_redis.ConnectionString, root: root).Start();

        Assert.Equal(0, await Sweeper(host).SweepOnceAsync(CancellationToken.None));
        Assert.True(File.Exists(orphan), "without a catalog, a blob cannot be told from an orphan");
    }

    private static OrphanSweeper Sweeper(IngestHost host) =>
        host.Services.GetServices<IHostedService>().OfType<OrphanSweeper>().Single();

    private static string Old(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "left by a crash");
        File.SetLastWriteTimeUtc(path, LongAgo);
        for (var dir = Path.GetDirectoryName(path); dir is not null && Directory.Exists(dir); dir = Path.GetDirectoryName(dir))
        {
            if (Path.GetFileName(dir) is "uploads" or "results" or "checkpoints" or "artifacts" or "tmp")
            {
                break;
            }

            Directory.SetLastWriteTimeUtc(dir, LongAgo);
        }

        return path;
    }
}
