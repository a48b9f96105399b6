using System.Text;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>
/// Checkpoints damaged on the ingest disk between two attempts at a document: found by the attempt that resumes,
/// quarantined, and processing falls back to the checkpoint before.
/// </summary>
[Collection("chaos")]
public sealed class CheckpointCorruptionTests(ChaosFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    [Trait("Req", "CK-2")]
    [Trait("Req", "CK-3")]
    [Trait("Req", "CK-5")]
    public async Task A_truncated_flipped_or_wrong_version_checkpoint_is_quarantined_and_processing_falls_back_to_the_one_before()
    {
        var app = fixture.App;
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        string[] damages = ["truncated", "bytes-flipped", "wrong-schema-version"];

        // First attempt: each document is held in render (validate and extract are checkpointed), then stopped.
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.Render, "slow", "damaged-*.pdf", Seconds: 60, MaxAttempt: 1));
        var ids = new Dictionary<string, string>();
        foreach (var damage in damages)
        {
            ids[damage] = await app.UploadAcceptedAsync(pdf, $"damaged-{damage}.pdf");
        }

        foreach (var id in ids.Values)
        {
            await app.WaitForStageRunningAsync(id, PipelineStageNames.Render, Patience);
            using var cancel = await app.Gateway.DeleteAsync(new Uri($"/api/documents/{id}", UriKind.Relative));
            cancel.EnsureSuccessStatusCode();
        }

        await app.WaitUntilQueueDrainedAsync(TimeSpan.FromSeconds(30));

        // Damage extract's checkpoint on disk, then resume each document.
        foreach (var (damage, id) in ids)
        {
            Damage(app.CheckpointFile(id, PipelineStageNames.Extract), damage);
            using var retry = await app.Gateway.PostAsync(new Uri($"/api/documents/{id}/retry", UriKind.Relative), null);
            retry.EnsureSuccessStatusCode();
        }

        foreach (var (damage, id) in ids)
        {
            var document = await app.WaitForTerminalAsync(id, Patience);
            Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{damage}: {document}\n{app.Diagnostics()}");

            var history = await app.EventsAsync(id);
            var quarantined = Assert.Single(history, e => e.Kind == DocumentEventKinds.CheckpointQuarantined);
            Assert.Equal(PipelineStageNames.Extract, quarantined.Stage);
            Assert.Contains(damage switch { "wrong-schema-version" => "schema version 9", "truncated" => "truncated", _ => "checksum mismatch" },
                quarantined.Detail, StringComparison.Ordinal);

            // The resumed attempt kept validate (still valid), recomputed extract, and went on from there.
            var claims = history.Where(e => e.Kind == DocumentEventKinds.Claimed).ToList();
            Assert.Equal(2, claims.Count);
            Assert.Equal(PipelineStageNames.All.Skip(1),
                history.Where(e => e.Kind == DocumentEventKinds.Checkpoint && e.LeaseToken == claims[1].LeaseToken).Select(e => e.Stage));
            Assert.Single(history, e => e.Kind == DocumentEventKinds.Completed);

            // The bad file is kept in quarantine with the reason, not deleted.
            var quarantine = Path.Combine(app.IngestRoot, "quarantine", id);
            Assert.Single(Directory.GetFiles(quarantine, "extract.*.ckpt"));
            Assert.Single(Directory.GetFiles(quarantine, "extract.*.reason.txt"));
        }

        await app.SetFaultsAsync();
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
                // As a newer worker build would have written it: same payload, schema version 9 (one digit, as the current one: the payload keeps its length).
                var header = Encoding.UTF8.GetString(bytes, 0, 512);
                var versioned = System.Text.RegularExpressions.Regex.Replace(header, "\"schemaVersion\":[0-9],", "\"schemaVersion\":9,");
                Assert.NotEqual(header, versioned);
                Encoding.UTF8.GetBytes(versioned).CopyTo(bytes, 0);
                File.WriteAllBytes(path, bytes);
                break;
        }
    }
}
