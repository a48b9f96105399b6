using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace LabelingBridge.LabelStudio;

/// <summary>The parts of Label Studio's JSON the bridge reads (snake_case on the wire).</summary>
public static class LabelStudioJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };
}

public sealed record LsProject(int Id, string? Title, string? LabelConfig);

public sealed record LsProjectPage(int Count, IReadOnlyList<LsProject>? Results);

public sealed record LsWebhook(int Id, int? Project, string Url, Dictionary<string, string>? Headers, IReadOnlyList<string>? Actions, bool SendPayload, bool SendForAllActions, bool IsActive);

public sealed record LsAnnotation(long Id, JsonArray? Result, JsonNode? CompletedBy, bool WasCancelled, DateTimeOffset? CreatedAt, DateTimeOffset? UpdatedAt, JsonNode? Task);

public sealed record LsTask(long Id, JsonObject? Data, IReadOnlyList<LsAnnotation>? Annotations)
{
    public string? DocumentId => Data?["doc_id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public int? PageNo => Data?["page_no"] is JsonValue v
        ? (v.TryGetValue<int>(out var n) ? n : int.TryParse(v.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var m) ? m : null)
        : null;
}

public sealed record LsTaskPage(IReadOnlyList<LsTask>? Tasks, int Total);

/// <summary>The outcome of one import: created tasks (and their ids when Label Studio said).</summary>
public sealed record LsImportOutcome(int TaskCount, IReadOnlyList<long> TaskIds);
