using System.Globalization;

namespace IngestService.Catalog;

/// <summary>One row of the documents table.</summary>
internal sealed record DocumentRecord(
    string Id,
    string FileName,
    string Sha256,
    long SizeBytes,
    string Status,
    string CreatedAtRaw,
    string UpdatedAtRaw,
    string? ErrorCode,
    string? ErrorMessage,
    long LeaseToken,
    string? EnqueuedAtRaw,
    string? JobEntryId,
    string? ResultSha256,
    string? LeaseOwner = null,
    string? LeaseExpiresAtRaw = null,
    string? LastError = null,
    int Retries = 0,
    int LeaseSeconds = 0,
    long ProcessingMs = 0,
    string? AttemptStartedAtRaw = null,
    string? ActiveAtRaw = null,
    string Priority = Suite.Contracts.JobPriority.Interactive,
    string? SourceUrl = null,
    string Format = Suite.Contracts.DocumentFormats.Pdf,
    string? OptionsJson = null,
    long? RetainSeconds = null,
    string? ExpiresAtRaw = null)
{
    /// <summary>When the retention sweeper removes it: set once it is finished (or its deletion was asked for); null otherwise.</summary>
    public DateTimeOffset? ExpiresAt => CatalogTime.ParseNullable(ExpiresAtRaw);

    public DateTimeOffset CreatedAt => CatalogTime.Parse(CreatedAtRaw);

    /// <summary>The pipeline options chosen at upload; the defaults for a document from before them (migration 10).</summary>
    public Suite.Contracts.DocumentOptions DocumentOptions => Suite.Contracts.DocumentOptions.FromJson(OptionsJson);
    public DateTimeOffset UpdatedAt => CatalogTime.Parse(UpdatedAtRaw);
    public DateTimeOffset? LeaseExpiresAt => CatalogTime.ParseNullable(LeaseExpiresAtRaw);

    /// <summary>
    /// Processing time of the attempt in progress up to <paramref name="end"/>, or, when it ended silently (no end
    /// given), up to its worker's last sign of life: the last claim or renewal of an expiring lease, else the last
    /// activity recorded. Zero when no attempt is open.
    /// </summary>
    public long OpenAttemptMs(DateTimeOffset? end = null)
    {
        if (CatalogTime.ParseNullable(AttemptStartedAtRaw) is not { } started)
        {
            return 0;
        }

        var lastSign = LeaseSeconds > 0 && LeaseExpiresAt is { } expires ? expires.AddSeconds(-LeaseSeconds) : CatalogTime.ParseNullable(ActiveAtRaw);
        return Math.Max(0, (long)((end ?? lastSign ?? started) - started).TotalMilliseconds);
    }
}

/// <summary>One stage of one document.</summary>
internal sealed record StageRecord(string Name, string Status, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Detail);

/// <summary>
/// A checkpoint the catalog knows of: the checksum and lease it was written with, and the fingerprint of the document
/// options it was made under (null: before options, i.e. the defaults).
/// </summary>
internal sealed record CheckpointRecord(string Sha256, long SizeBytes, long LeaseToken, DateTimeOffset CreatedAt, int SchemaVersion, string? OptionsFingerprint = null)
{
    /// <summary>Whether the checkpoint was made under options with <paramref name="fingerprint"/>.</summary>
    public bool MadeUnder(string fingerprint) =>
        string.Equals(OptionsFingerprint ?? Suite.Contracts.DocumentOptions.Default.Fingerprint(), fingerprint, StringComparison.Ordinal);
}

/// <summary>What a lease-fenced write found.</summary>
internal enum LeaseWrite
{
    /// <summary>Written.</summary>
    Done,

    /// <summary>The same write had already been made with this lease; nothing changed.</summary>
    AlreadyDone,

    NotFound,

    /// <summary>The lease token is not the document's current one.</summary>
    StaleLease,

    /// <summary>The document is terminal in a way this write cannot change (e.g. failing a completed document).</summary>
    Terminal,

    /// <summary>The document was completed with a different result.</summary>
    Conflict,
}

/// <summary>
/// The outcome of a claim: the document and the lease it is now held under (unchanged when terminal), or, when
/// <see cref="HeldUntil"/> is set, refused because another worker's live lease runs until then.
/// </summary>
internal sealed record ClaimResult(DocumentRecord Document, IReadOnlyList<string> CheckpointedStages, DateTimeOffset? HeldUntil = null)
{
    public bool Refused => HeldUntil is not null;
}

/// <summary>What a lease renewal found: the outcome, and the document as it is now.</summary>
internal sealed record LeaseRenewal(LeaseWrite Outcome, DocumentRecord? Document);

/// <summary>
/// Timestamps as fixed-width UTC ISO-8601 text, so that text order is time order (the list index relies on it).
/// </summary>
internal static class CatalogTime
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static string ToText(DateTimeOffset value) => value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    /// <summary>The current time of <paramref name="time"/> as catalog text.</summary>
    public static string Now(TimeProvider time) => ToText(time.GetUtcNow());

    public static DateTimeOffset Parse(string text) =>
        DateTimeOffset.ParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static bool TryParse(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    public static DateTimeOffset? ParseNullable(string? text) => text is null ? null : Parse(text);
}
