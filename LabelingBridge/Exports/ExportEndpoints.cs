using System.Text.RegularExpressions;
using LabelingBridge.Configuration;
using LabelingBridge.Exports;
using LabelingBridge.Ingest;
using LabelingBridge.LabelStudio;
using LabelingBridge.Outbox;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Problems;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The export API: request an export (202, stored before answering), follow it, list a document's exports.</summary>
public static partial class ExportEndpoints
{
    private static readonly TimeSpan IngestLookupBudget = TimeSpan.FromSeconds(10);

    public static WebApplication MapExportEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/api/documents/{id}/exports/label-studio", CreateAsync)
            .WithTags("exports")
            .WithName("ExportToLabelStudio")
            .WithSummary("Export a completed document to Label Studio")
            .WithDescription("Stores the export before answering 202 and delivers it in the background (one task per page), " +
                             "also while Label Studio is down. Follow it at links.self.")
            .Produces<ExportView>(StatusCodes.Status202Accepted)
            .ProducesApiProblem(400, "invalid_document_id")
            .ProducesApiProblem(404, "document_not_found")
            .ProducesApiProblem(409, "document_not_ready")
            .ProducesApiProblem(503, "label_studio_disabled", "label_studio_credentials_rejected", "ingest_unavailable", "outbox_unavailable", "outbox_read_only")
            .ProducesApiProblem(507, "outbox_full");
        app.MapGet("/api/exports/{exportId}", GetAsync)
            .WithTags("exports")
            .WithName("GetExport")
            .WithSummary("Follow an export")
            .Produces<ExportView>()
            .ProducesApiProblem(404, "export_not_found");
        app.MapGet("/api/documents/{id}/exports", ListAsync)
            .WithTags("exports")
            .WithName("ListDocumentExports")
            .WithSummary("List a document's exports, newest first")
            .Produces<DocumentExports>()
            .ProducesApiProblem(400, "invalid_document_id");
        return app;
    }

    private static async Task<IResult> CreateAsync(
        string id,
        HttpContext context,
        IngestDocumentsClient ingest,
        ExportOutbox outbox,
        ExportSignal signal,
        CredentialState credentials,
        IOptions<LabelStudioOptions> labelStudio)
    {
        if (Refusal(id, credentials, labelStudio.Value) is { } refused)
        {
            return refused;
        }

        IngestDocument? document;
        using (var budget = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            budget.CancelAfter(IngestLookupBudget);
            try
            {
                document = await ingest.GetDocumentAsync(id, budget.Token);
            }
            catch (Exception ex) when (ex is IngestUnavailableException || (ex is OperationCanceledException && !context.RequestAborted.IsCancellationRequested))
            {
                return ApiProblem.Result(503, "ingest_unavailable", "The document service is unavailable",
                    "The bridge could not look the document up in the ingest service, so nothing was queued. Try again shortly.",
                    retryable: true, retryAfter: TimeSpan.FromSeconds(5));
            }
        }

        if (document is null)
        {
            return ApiProblem.Result(404, "document_not_found", "Document not found",
                $"There is no document '{id}'. Check the id returned when it was uploaded.");
        }

        if (document.Status != DocumentStatus.Completed)
        {
            return ApiProblem.Result(409, "document_not_ready", "Document not completed",
                $"Document '{id}' is {document.Status}; only completed documents can be exported to Label Studio. Try again once its status is completed.",
                retryable: document.Status is DocumentStatus.AwaitingScan or DocumentStatus.Queued or DocumentStatus.Processing);
        }

        ExportRecord export;
        try
        {
            (export, _) = await outbox.EnqueueAsync(id, ExportTriggers.Api, context.RequestAborted);
        }
        catch (DatabaseReadOnlyException ex)
        {
            return OutboxProblems.ReadOnly(ex);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 13)
        {
            return ApiProblem.Result(507, "outbox_full", "The export outbox is out of disk space",
                "The bridge could not store the export because its disk is full; nothing was queued. An operator must free space on the bridge's data volume.",
                retryable: true, retryAfter: TimeSpan.FromSeconds(60));
        }
        catch (SqliteException)
        {
            return ApiProblem.Result(503, "outbox_unavailable", "The export outbox is unavailable",
                "The bridge could not store the export in its database, so nothing was queued. Try again shortly.",
                retryable: true, retryAfter: TimeSpan.FromSeconds(5));
        }

        signal.Notify();
        var view = ExportView.From(export);
        return TypedResults.Accepted(view.Links.Self, view);
    }

    private static async Task<IResult> GetAsync(string exportId, ExportOutbox outbox, CancellationToken cancellationToken)
    {
        var export = SafeId().IsMatch(exportId) ? await outbox.FindAsync(exportId, cancellationToken) : null;
        return export is null
            ? ApiProblem.Result(404, "export_not_found", "Export not found", $"There is no export '{exportId}'. Use the id from the 202 answer of the export request.")
            : TypedResults.Ok(ExportView.From(export));
    }

    private static async Task<IResult> ListAsync(string id, ExportOutbox outbox, CancellationToken cancellationToken)
    {
        if (!SafeId().IsMatch(id))
        {
            return InvalidId(id);
        }

        var exports = await outbox.ListForDocumentAsync(id, 50, cancellationToken);
        return TypedResults.Ok(new DocumentExports(id, exports.Select(ExportView.From).ToList()));
    }

    /// <summary>Why an export cannot be accepted right now, as a problem; null when it can.</summary>
    private static IResult? Refusal(string id, CredentialState credentials, LabelStudioOptions options)
    {
        if (!SafeId().IsMatch(id))
        {
            return InvalidId(id);
        }

        if (!options.Enabled)
        {
            return ApiProblem.Result(503, "label_studio_disabled", "Label Studio export is switched off",
                "This deployment does not export to Label Studio (LabelStudio:Enabled=false). An operator can switch it on with " +
                "LabelStudio__Enabled=true together with LabelStudio__Url and LabelStudio__ApiKey.");
        }

        var current = credentials.Current;
        if (current.Status == CredentialStatus.Rejected)
        {
            var probe = options.CredentialProbeInterval;
            return ApiProblem.Result(503, "label_studio_credentials_rejected", "Label Studio rejects the bridge's credentials",
                $"Label Studio answered HTTP {current.HttpStatus} to the bridge's API key since {current.Since:u}, so exports cannot be delivered. " +
                "An operator must set LabelStudio:ApiKey (environment variable LabelStudio__ApiKey) to a valid Label Studio legacy token or " +
                "Personal Access Token of a user who can create projects and import tasks. The bridge re-checks every " +
                $"{probe.TotalSeconds:0.#} s and accepts exports again as soon as the key works.",
                retryable: true, retryAfter: probe);
        }

        return null;
    }

    private static IResult InvalidId(string id) =>
        ApiProblem.Result(400, "invalid_document_id", "Invalid document id",
            $"'{(id.Length > 80 ? id[..80] : id)}' is not a document id: ids are 1 to 100 letters, digits, '-' or '_'.");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,100}$")]
    internal static partial Regex SafeId();
}

/// <summary>The state of one export as the API shows it.</summary>
public sealed record ExportView(
    string ExportId,
    string DocumentId,
    string State,
    string Trigger,
    int Attempts,
    ExportErrorView? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt,
    ExportLabelStudioView? LabelStudio,
    ExportLinks Links)
{
    public static ExportView From(ExportRecord e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new ExportView(
            e.Id,
            e.DocumentId,
            e.State,
            e.Trigger,
            e.Attempts,
            e.LastErrorCode is null ? null : new ExportErrorView(e.LastErrorCode, e.LastErrorMessage ?? "", e.LastErrorAt),
            e.CreatedAt,
            e.UpdatedAt,
            e.State == ExportStates.Pending ? e.NextAttemptAt : null,
            e.DeliveredAt,
            e.ProjectId is { } project ? new ExportLabelStudioView(project, e.TasksCreated ?? 0, e.TasksExisting ?? 0) : null,
            new ExportLinks("/api/exports/" + e.Id, "/api/documents/" + e.DocumentId + "/annotations"));
    }
}

/// <summary>GET /api/documents/{id}/exports.</summary>
public sealed record DocumentExports(string DocumentId, IReadOnlyList<ExportView> Exports);

public sealed record ExportErrorView(string Code, string Message, DateTimeOffset? At);

public sealed record ExportLabelStudioView(int ProjectId, int TasksCreated, int TasksExisting);

public sealed record ExportLinks(string Self, string Annotations);
