using System.Text.Json.Serialization;
using IngestService.Catalog;
using Suite.Contracts;

namespace IngestService.Documents;

/// <summary>
/// 202 answer to an upload: <c>priority</c> is the job priority it was accepted with (interactive or batch), <c>options</c>
/// the pipeline options (defaults filled in; <c>ocrLanguages</c> absent: the workers' default language);
/// <see cref="DuplicateOf"/> names the oldest other document with the same content (a new document is created all the same).
/// </summary>
internal sealed record UploadAccepted(
    string Id,
    string FileName,
    string Status,
    long SizeBytes,
    string Sha256,
    DateTimeOffset CreatedAt,
    DocumentLinks Links,
    string Priority,
    string Format,
    DocumentOptions Options,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DuplicateOf = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CallbackUrl = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CallbackSecret = null,

    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? RetainForSeconds = null);

internal sealed record DocumentLinks(string Self, string Result)
{
    public static DocumentLinks For(string id) => new(DocumentRoutes.Self(id), DocumentRoutes.Result(id));
}

/// <summary>GET /api/documents/{id}.</summary>
internal sealed record DocumentDetail(
    string Id,
    string FileName,
    string Status,
    long SizeBytes,
    string Sha256,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<StageView> Stages,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ErrorView? Error,
    int Attempts,
    int Retries,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastError,
    string Priority,
    DocumentOptions Options,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SourceUrl = null,
    string Format = Suite.Contracts.DocumentFormats.Pdf,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? RetainForSeconds = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ExpiresAt = null)
{
    /// <summary>
    /// RetainForSeconds = how long it is kept once finished (absent for documents from before retention: kept until
    /// deleted); ExpiresAt = when it is removed (set once it is finished, or at once when its deletion was asked for).
    /// Options = the pipeline options of the upload, defaults filled in (ocrLanguages absent: the workers' default; pageRange
    /// absent: every page). Attempts = claims by workers so far (the lease token); Retries = manual retries; LastError = why the last
    /// attempt failed; Priority = the job priority of the upload (interactive or batch); SourceUrl = the URL a URL upload
    /// was fetched from (its query's values left out), absent for a multipart upload; Format = what its bytes were
    /// recognised as (pdf, png, jpeg, tiff, webp, docx, pptx, html, markdown).
    /// </summary>
    public static DocumentDetail From(DocumentRecord d, IReadOnlyList<StageRecord> stages) => new(
        d.Id, d.FileName, d.Status, d.SizeBytes, d.Sha256, d.CreatedAt, d.UpdatedAt,
        stages.Select(s => new StageView(s.Name, s.Status, s.StartedAt, s.FinishedAt, s.Detail)).ToList(),
        ErrorView.From(d), (int)Math.Min(d.LeaseToken, int.MaxValue), d.Retries, d.LastError, d.Priority, d.DocumentOptions, d.SourceUrl, d.Format,
        d.RetainSeconds, d.ExpiresAt);
}

/// <summary>One item of GET /api/documents: the detail without stages.</summary>
internal sealed record DocumentSummary(
    string Id,
    string FileName,
    string Status,
    long SizeBytes,
    string Sha256,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ErrorView? Error,
    string Priority,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SourceUrl = null,
    string Format = Suite.Contracts.DocumentFormats.Pdf)
{
    public static DocumentSummary From(DocumentRecord d) =>
        new(d.Id, d.FileName, d.Status, d.SizeBytes, d.Sha256, d.CreatedAt, d.UpdatedAt, ErrorView.From(d), d.Priority, d.SourceUrl, d.Format);
}

internal sealed record DocumentPage(IReadOnlyList<DocumentSummary> Items, string? NextCursor);

internal sealed record StageView(
    string Name,
    string Status,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail);

internal sealed record ErrorView(string Code, string Message)
{
    public static ErrorView? From(DocumentRecord d) =>
        d.ErrorCode is null ? null : new ErrorView(d.ErrorCode, d.ErrorMessage ?? "");
}

/// <summary>The public routes, as the gateway exposes them.</summary>
internal static class DocumentRoutes
{
    public const string Prefix = "/api/documents";

    public static string Self(string id) => $"{Prefix}/{id}";

    public static string Result(string id) => $"{Prefix}/{id}/result";
}
