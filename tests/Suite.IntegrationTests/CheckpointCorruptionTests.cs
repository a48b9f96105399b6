using System.Text;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>A checkpoint damaged on the ingest disk while its worker was dead, found by the worker that takes over.</summary>
[Collection("chaos")]
public sealed class CheckpointCorruptionTests(ChaosFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("truncated")]
    [InlineData("bytes-flipped")]
    [InlineData("wrong-schema-version")]
    [Trait("Req", "CK-2")]
    [Trait("Req", "CK-3")]
    [Trait("Req", "CK-5")]
    public async Task A_damaged_checkpoint_is_detected_and_quarantined_and_processing_falls_back_to_the_one_before(string damage)
    {
        var app = fixture.App;
        var fileName = $"damaged-{damage}.pdf";
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.Render, "slow", fileName, Seconds: 45, MaxAttempt: 1));
        var id = await app.UploadAsync(await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")), fileName);
        await app.WaitForStageRunningAsync(id, PipelineStageNames.Render, Patience);
        var victim = await app.LeaseHolderAsync(id);
        await app.KillAndHoldAsync(victim);

        // validate and extract were checkpointed; extract's file is damaged before another worker takes over.
        var path = app.CheckpointFile(id, PipelineStageNames.Extract);
        Damage(path, damage);

        var document = await app.WaitForTerminalAsync(id, Patience);
        var restart = app.RestartAsync(victim);
        Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{document}\n{app.Diagnostics()}");

        var history = await app.EventsAsync(id);
        var quarantined = Assert.Single(history, e => e.Kind == DocumentEventKinds.CheckpointQuarantined);
        Assert.Equal(PipelineStageNames.Extract, quarantined.Stage);
        Assert.Contains(damage == "wrong-schema-version" ? "schema version" : damage == "truncated" ? "truncated" : "checksum", quarantined.Detail, StringComparison.Ordinal);

        // The takeover resumed from validate (still valid), recomputed extract, and went on from there.
        var claims = history.Where(e => e.Kind == DocumentEventKinds.Claimed).ToList();
        Assert.Equal(2, claims.Count);
        Assert.Equal(PipelineStageNames.All.Skip(1),
            history.Where(e => e.Kind == DocumentEventKinds.Checkpoint && e.LeaseToken == claims[1].LeaseToken).Select(e => e.Stage));
        Assert.Single(history, e => e.Kind == DocumentEventKinds.Completed);

        // The bad file is kept in quarantine with the reason, not deleted.
        var quarantine = Path.Combine(app.IngestRoot, "quarantine", id);
        Assert.Single(Directory.GetFiles(quarantine, "extract.*.ckpt"));
        Assert.Single(Directory.GetFiles(quarantine, "extract.*.reason.txt"));
        await app.SetFaultsAsync();
        await restart;
    }

    private static void Damage(string path, string damage)
    {
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "truncated":
                File.WriteAllBytes(path, bytes[..(512 + ((bytes.Length - 512) / 2))]);
                break;
            case "bytes-flipped":
                for (var i = 600; i < bytes.Length; i += 97)
                {
                    bytes[i] ^= 0x20;
                }

                File.WriteAllBytes(path, bytes);
                break;
            default:
                var header = Encoding.UTF8.GetString(bytes, 0, 512);
                Assert.Contains("\"schemaVersion\":1,", header, StringComparison.Ordinal);
                Encoding.UTF8.GetBytes(header.Replace("\"schemaVersion\":1,", "\"schemaVersion\":7,", StringComparison.Ordinal)).CopyTo(bytes, 0);
                File.WriteAllBytes(path, bytes);
                break;
        }
    }
}
