using System.Net;
using LabelingBridge.Tests.Infrastructure;
using Suite.Testing;

namespace LabelingBridge.Tests;

/// <summary>
/// The outbox at start-up and stop: opened by a start-up step after the server listens (a damaged file keeps the bridge
/// live and not ready, saying why, and untouched), checkpointed and closed once the bridge has stopped.
/// </summary>
public sealed class LifecycleTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("bridge-lifecycle-").FullName;

    private string OutboxPath => Path.Combine(_dataDir, "outbox.db");

    [Fact]
    [Trait("Req", "SU-5")]
    public async Task A_damaged_outbox_keeps_the_bridge_live_and_not_ready_saying_why_and_leaves_the_file_untouched()
    {
        var garbage = new byte[16 * 1024];
        Random.Shared.NextBytes(garbage);
        await File.WriteAllBytesAsync(OutboxPath, garbage);

        await using var s = await Scenario.StartAsync(c => c["Outbox:DatabasePath"] = OutboxPath);

        await Eventually.UntilAsync(async () =>
        {
            var (status, ready) = await s.ReadinessAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            var startup = ready.GetProperty("checks").GetProperty("startup").GetProperty("description").GetString() ?? "";
            return startup.StartsWith("start-up failed at opening the outbox", StringComparison.Ordinal) && startup.Contains(OutboxPath, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20), "readiness says start-up stopped at the damaged outbox");
        using (var live = await s.Client.GetAsync(new Uri("/health/live", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        await s.Bridge.DisposeAsync();
        Assert.Equal(garbage, await File.ReadAllBytesAsync(OutboxPath));
        Assert.Contains(s.Bridge.Logs.Lines, l => l.Contains("Shutdown: database outbox left untouched", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Req", "SD-4")]
    public async Task Stopping_the_bridge_checkpoints_and_closes_its_outbox_leaving_no_wal()
    {
        await using var s = await Scenario.StartAsync(c => c["Outbox:DatabasePath"] = OutboxPath);
        var exportId = await s.RequestExportAsync(s.AddDocument());
        await s.WaitForExportAsync(exportId, "delivered", TimeSpan.FromSeconds(20));

        await s.Bridge.DisposeAsync();

        var wal = new FileInfo(OutboxPath + "-wal");
        Assert.True(!wal.Exists || wal.Length == 0, $"outbox.db-wal has {(wal.Exists ? wal.Length : 0)} bytes after the stop:\n" +
            string.Join('\n', s.Bridge.Logs.Lines.Where(l => !l.StartsWith("Debug", StringComparison.Ordinal) && !l.StartsWith("Trace", StringComparison.Ordinal)).TakeLast(40)));
        Assert.Contains(s.Bridge.Logs.Lines, l => l.Contains("Shutdown: database outbox (", StringComparison.Ordinal) && l.Contains("checkpointed", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
