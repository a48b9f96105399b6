using System.Text.Json;
using System.Text.Json.Serialization;

namespace Suite.Contracts;

/// <summary>
/// The structured result of one document (format=json). Coordinates are PDF points with a bottom-left origin,
/// as PdfPig reports them; pages are numbered from 1. Documented in docs/result-schema.md.
/// </summary>
public sealed record DocumentResult
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required string DocumentId { get; init; }
    public required string FileName { get; init; }
    public required int PageCount { get; init; }
    public required IReadOnlyList<ResultPage> Pages { get; init; }

    /// <summary>Block ids in reading order, across pages.</summary>
    public required IReadOnlyList<string> ReadingOrder { get; init; }

    /// <summary>Every stage's outcome: ok, degraded or skipped, with the reason when not ok.</summary>
    public required IReadOnlyList<StageOutcome> Stages { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

public sealed record ResultPage(int PageNumber, double Width, double Height, IReadOnlyList<ResultBlock> Blocks);

/// <summary>A block of text on a page, with its layout role (paragraph, title, section_header, ...).</summary>
public sealed record ResultBlock(string Id, int PageNumber, string Role, string Text, BoundingBox BoundingBox);

/// <summary>A box in PDF points, origin bottom-left.</summary>
public sealed record BoundingBox(double Left, double Bottom, double Right, double Top);

public sealed record StageOutcome(string Name, string Outcome, string? Reason = null)
{
    public const string Ok = "ok";
    public const string Degraded = "degraded";
    public const string Skipped = "skipped";
}
