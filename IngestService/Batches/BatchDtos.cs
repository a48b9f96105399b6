using System.Text.Json;
using System.Text.Json.Serialization;

namespace IngestService.Batches;

/// <summary>
/// One file's answer in a batch: the status a single upload of it would get and that answer's body, the document
/// (<see cref="Document"/>, as the 202 of POST /api/documents) or the problem (<see cref="Problem"/>, problem+json).
/// </summary>
internal sealed record BatchFileAnswer(
    int Index,
    string FileName,
    int Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Document,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Problem);

internal sealed record BatchLinks(string Self);

/// <summary>POST /api/batches → 207: every file's answer, in the order sent.</summary>
internal sealed record BatchAccepted(string BatchId, DateTimeOffset CreatedAt, int Files, int Accepted, int Refused, BatchLinks Links, IReadOnlyList<BatchFileAnswer> Items);

/// <summary>One file of GET /api/batches/{id}: its document's status now (expired or deleted once gone), or refused with its problem.</summary>
internal sealed record BatchItemView(
    int Index,
    string FileName,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DocumentId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Documents.DocumentLinks? Links,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BatchItemProblem? Problem);

internal sealed record BatchItemProblem(int Status, string Code);

/// <summary>GET /api/batches/{id}: the files with their statuses, counts by status, and whether all have ended.</summary>
internal sealed record BatchView(string Id, DateTimeOffset CreatedAt, int Files, bool Done, IReadOnlyDictionary<string, int> Counts, IReadOnlyList<BatchItemView> Items);

internal static class BatchRoutes
{
    public const string Prefix = "/api/batches";

    public static string Self(string id) => $"{Prefix}/{id}";
}
