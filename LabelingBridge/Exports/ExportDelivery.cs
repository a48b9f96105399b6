using System.Text.Json.Nodes;
using LabelingBridge.Ingest;
using LabelingBridge.LabelStudio;
using LabelingBridge.Outbox;
using Suite.Contracts;

namespace LabelingBridge.Exports;

/// <summary>What a delivery did: tasks it created and tasks that were already there.</summary>
public sealed record DeliveryResult(int ProjectId, int TasksCreated, int TasksExisting);

/// <summary>A delivery failure that is not a Label Studio call failure (document gone, project gone).</summary>
public sealed class DeliveryException(string code, string message, bool retryable) : Exception(message)
{
    public string Code { get; } = code;

    public bool Retryable { get; } = retryable;
}

/// <summary>
/// Delivers one document: provision the project, read the result from ingest, build one task per page and import
/// the pages Label Studio does not have yet. The check and the import form one retried unit, so an import whose
/// answer was lost (a 5xx or a timeout after Label Studio committed it) is never imported twice (RTY-5).
/// </summary>
public sealed class ExportDelivery(
    ProjectProvisioner provisioner,
    IngestDocumentsClient ingest,
    LayoutTaskBuilder tasks,
    LabelStudioApi api,
    LabelStudioOperations operations,
    ExportOutbox outbox)
{
    public async Task<DeliveryResult> DeliverAsync(string documentId, CancellationToken cancellationToken)
    {
        var projectId = await provisioner.EnsureProjectAsync(cancellationToken);
        var document = await ingest.GetDocumentAsync(documentId, cancellationToken)
            ?? throw new DeliveryException("document_not_found", $"Ingest no longer knows document {documentId}.", retryable: false);
        if (document.Status != DocumentStatus.Completed)
        {
            throw new DeliveryException("document_not_ready", $"Document {documentId} is {document.Status}, not completed.", retryable: false);
        }

        var result = await ingest.GetResultAsync(documentId, cancellationToken)
            ?? throw new DeliveryException("result_not_found", $"Ingest has no JSON result for document {documentId} yet.", retryable: true);
        var pages = tasks.Build(result, documentId);
        await outbox.SavePageSizesAsync(documentId, result.Pages.Select(p => (p.PageNumber, p.Width, p.Height)).ToList(), cancellationToken);
        try
        {
            return await operations.RunAsync("import_tasks", async ct =>
            {
                var present = (await api.FindDocumentTasksAsync(projectId, documentId, ct)).Select(t => t.PageNo).OfType<int>().ToHashSet();
                var missing = pages.Where(p => !present.Contains(p.PageNo)).ToList();
                if (missing.Count > 0)
                {
                    await api.ImportTasksAsync(projectId, new JsonArray([.. missing.Select(p => p.Task.DeepClone())]), ct);
                }

                return new DeliveryResult(projectId, missing.Count, pages.Count - missing.Count);
            }, cancellationToken);
        }
        catch (LabelStudioException ex) when (ex.Error.Code == LabelStudioErrorCodes.NotFound)
        {
            provisioner.Forget();
            throw new DeliveryException("project_missing", $"Label Studio project {projectId} was not found; it is provisioned again on the next attempt.", retryable: true);
        }
    }
}
