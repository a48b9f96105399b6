using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Suite.Contracts;

namespace IngestService.Tests;

/// <summary>
/// Checkpoints on the real storage root: written atomically in an envelope with checksum and schema version,
/// validated on every read; damaged ones are quarantined and the stage before them is what a worker resumes from.
/// </summary>
[Collection("ingest")]
public sealed class CheckpointEnvelopeTests(IngestFixture fixture)
{
    private HttpClient Client => fixture.Client;

    [Fact]
    [Trait("Req", "CK-1")]
    public async Task A_checkpoint_is_stored_in_an_envelope_with_its_checksum_schema_version_and_lease()
    {
        var (id, lease) = await ClaimNewAsync("envelope.pdf");
        var payload = Encoding.UTF8.GetBytes("{\"version\":1,\"pages\":[1,2,3]}");

        await PutAsync(id, PipelineStageNames.Validate, lease, payload, schema: 3);

        var path = CheckpointFile(id, PipelineStageNames.Validate);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal(512 + payload.Length, bytes.Length);
        Assert.Equal(payload, bytes[512..]);
        var headerText = Encoding.UTF8.GetString(bytes, 0, 512);
        Assert.StartsWith("SUITE-CHECKPOINT\n", headerText, StringComparison.Ordinal);
        using var header = JsonDocument.Parse(headerText["SUITE-CHECKPOINT\n".Length..].Trim());
        Assert.Equal(1, header.RootElement.GetProperty("envelope").GetInt32());
        Assert.Equal(3, header.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(Sha(payload), header.RootElement.GetProperty("sha256").GetString());
        Assert.Equal(payload.Length, header.RootElement.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(lease, header.RootElement.GetProperty("leaseToken").GetInt64());
        Assert.Equal(id, header.RootElement.GetProperty("documentId").GetString());

        // Read back: the payload only, with its checksum and schema version.
        using (var get = await GetAsync(id, PipelineStageNames.Validate, accept: 3))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(payload, await get.Content.ReadAsByteArrayAsync());
            Assert.Equal(Sha(payload), get.Headers.GetValues(InternalApi.ChecksumHeader).Single());
            Assert.Equal("3", get.Headers.GetValues(InternalApi.CheckpointSchemaHeader).Single());
        }

        // Replaced atomically by the next write: no temp file is ever left beside it.
        await PutAsync(id, PipelineStageNames.Validate, lease, Encoding.UTF8.GetBytes("{\"version\":1,\"pages\":[]}"), schema: 3);
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "*.tmp"));
        var history = await EventsAsync(id);
        Assert.Equal(2, history.Count(e => e.Kind == DocumentEventKinds.Checkpoint && e.Stage == PipelineStageNames.Validate && e.LeaseToken == lease));
    }

    public static TheoryData<string> Damages => ["truncated", "bytes-flipped", "wrong-schema-version", "header-garbled", "file-deleted"];

    [Theory]
    [Trait("Req", "CK-2")]
    [Trait("Req", "CK-3")]
    [MemberData(nameof(Damages))]
    public async Task A_damaged_checkpoint_is_detected_quarantined_and_the_previous_stage_is_where_processing_resumes(string damage)
    {
        var (id, lease) = await ClaimNewAsync($"damaged-{damage}.pdf");
        var validate = Encoding.UTF8.GetBytes("{\"version\":1,\"pageCount\":2}");
        var extract = Encoding.UTF8.GetBytes("[{\"n\":1,\"words\":[{\"t\":\"hello\"}]},{\"n\":2,\"words\":[{\"t\":\"world\"}]}]");
        await PutAsync(id, PipelineStageNames.Validate, lease, validate, schema: 1);
        await PutAsync(id, PipelineStageNames.Extract, lease, extract, schema: 1);

        var path = CheckpointFile(id, PipelineStageNames.Extract);
        Damage(path, damage);

        using (var get = await GetAsync(id, PipelineStageNames.Extract, accept: 1))
        {
            var problem = await Api.AssertProblemAsync(get, 404, "checkpoint_quarantined");
            Assert.Equal(PipelineStageNames.Extract, problem.GetProperty("stage").GetString());
        }

        // Out of use: moved to quarantine with the reason, forgotten by the catalog, recorded in the history.
        Assert.False(File.Exists(path));
        var quarantine = Path.Combine(fixture.Host.Root, "quarantine", id);
        var reasonFile = Assert.Single(Directory.GetFiles(quarantine, "extract.*.reason.txt"));
        Assert.False(string.IsNullOrWhiteSpace(await File.ReadAllTextAsync(reasonFile)));
        if (damage != "file-deleted")
        {
            Assert.Single(Directory.GetFiles(quarantine, "extract.*.ckpt"));
        }

        var quarantined = Assert.Single(await EventsAsync(id), e => e.Kind == DocumentEventKinds.CheckpointQuarantined);
        Assert.Equal(PipelineStageNames.Extract, quarantined.Stage);
        using (var again = await GetAsync(id, PipelineStageNames.Extract, accept: 1))
        {
            await Api.AssertProblemAsync(again, 404, "checkpoint_not_found");
        }

        // The next claim resumes from the previous valid checkpoint, which is intact.
        var reclaim = await ClaimAsync(id, "worker-after-damage");
        Assert.Equal([PipelineStageNames.Validate], reclaim.CheckpointedStages);
        using (var previous = await GetAsync(id, PipelineStageNames.Validate, accept: 1))
        {
            Assert.Equal(HttpStatusCode.OK, previous.StatusCode);
            Assert.Equal(validate, await previous.Content.ReadAsByteArrayAsync());
        }

        // The stage is recomputed and its new checkpoint is served again.
        await PutAsync(id, PipelineStageNames.Extract, reclaim.LeaseToken, extract, schema: 1);
        using var recomputed = await GetAsync(id, PipelineStageNames.Extract, accept: 1);
        Assert.Equal(extract, await recomputed.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    [Trait("Req", "CK-3")]
    public async Task A_checkpoint_of_another_schema_version_than_the_worker_reads_is_quarantined_not_served()
    {
        var (id, lease) = await ClaimNewAsync("old-schema.pdf");
        await PutAsync(id, PipelineStageNames.Validate, lease, Encoding.UTF8.GetBytes("{\"v\":1}"), schema: 1);

        using var get = await GetAsync(id, PipelineStageNames.Validate, accept: 2);

        var problem = await Api.AssertProblemAsync(get, 404, "checkpoint_quarantined");
        Assert.Contains("schema version 1", problem.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Empty((await ClaimAsync(id, "worker-v2")).CheckpointedStages);
    }

    [Fact]
    [Trait("Req", "CK-4")]
    public async Task A_checkpoint_written_with_a_stale_lease_is_refused_and_recorded_in_the_history()
    {
        var (id, first) = await ClaimNewAsync("fenced.pdf");
        var second = (await ClaimAsync(id, "worker-new")).LeaseToken;
        await PutAsync(id, PipelineStageNames.Validate, second, Encoding.UTF8.GetBytes("{\"owner\":\"new\"}"), schema: 1);

        using (var stale = await SendAsync(HttpMethod.Put, InternalApi.Checkpoint(id, PipelineStageNames.Validate), first, new ByteArrayContent(Encoding.UTF8.GetBytes("{\"owner\":\"old\"}"))))
        {
            await Api.AssertProblemAsync(stale, 409, "stale_lease");
        }

        using (var get = await GetAsync(id, PipelineStageNames.Validate, accept: 1))
        {
            Assert.Equal("{\"owner\":\"new\"}", await get.Content.ReadAsStringAsync());
        }

        var refused = Assert.Single(await EventsAsync(id), e => e.Kind == DocumentEventKinds.StaleLeaseRefused);
        Assert.Equal(first, refused.LeaseToken);
        Assert.Contains("checkpoint validate", refused.Detail, StringComparison.Ordinal);
    }

    private static void Damage(string path, string damage)
    {
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "truncated":
                File.WriteAllBytes(path, bytes[..(bytes.Length - 7)]);
                break;
            case "bytes-flipped":
                bytes[520] ^= 0x5A;
                bytes[^3] ^= 0xFF;
                File.WriteAllBytes(path, bytes);
                break;
            case "wrong-schema-version":
                // Rewrite the header as a newer writer would have: same payload, schema version 99.
                var header = Encoding.UTF8.GetString(bytes, 0, 512).Replace("\"schemaVersion\":1", "\"schemaVersion\":99", StringComparison.Ordinal);
                Assert.Contains("\"schemaVersion\":99", header, StringComparison.Ordinal);
                Encoding.UTF8.GetBytes(header).CopyTo(bytes, 0);
                File.WriteAllBytes(path, bytes);
                break;
            case "header-garbled":
                bytes[30] = (byte)'{';
                bytes[31] = (byte)'{';
                File.WriteAllBytes(path, bytes);
                break;
            case "file-deleted":
                File.Delete(path);
                break;
        }
    }

    private string CheckpointFile(string id, string stage) => Path.Combine(fixture.Host.Root, "checkpoints", id, stage + ".ckpt");

    private async Task<(string Id, long Lease)> ClaimNewAsync(string fileName)
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, fileName);
        return (id, (await ClaimAsync(id, "worker-ck")).LeaseToken);
    }

    private async Task<ClaimResponse> ClaimAsync(string id, string worker)
    {
        using var response = await Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest(worker));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<ClaimResponse>(text, JsonSerializerOptions.Web)!;
    }

    private async Task PutAsync(string id, string stage, long lease, byte[] payload, int schema)
    {
        var content = new ByteArrayContent(payload);
        using var request = Api.WithLease(HttpMethod.Put, InternalApi.Checkpoint(id, stage), lease, content);
        request.Headers.Add(InternalApi.CheckpointSchemaHeader, schema.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        Assert.Equal(Sha(payload), response.Headers.GetValues(InternalApi.ChecksumHeader).Single());
    }

    private async Task<HttpResponseMessage> GetAsync(string id, string stage, int accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, InternalApi.Checkpoint(id, stage));
        request.Headers.Add(InternalApi.CheckpointSchemaHeader, accept.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await Client.SendAsync(request);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string uri, long lease, HttpContent content)
    {
        using var request = Api.WithLease(method, uri, lease, content);
        return await Client.SendAsync(request);
    }

    private async Task<IReadOnlyList<DocumentEvent>> EventsAsync(string id) =>
        (await Client.GetFromJsonAsync<List<DocumentEvent>>(InternalApi.Events(id), JsonSerializerOptions.Web))!;

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
