using IngestService.Catalog;
using IngestService.Storage;
using Microsoft.Data.Sqlite;
using Suite.ServiceDefaults.Data;

namespace IngestService.Api;

/// <summary>
/// Turns storage and catalog failures into the problems clients can act on: a full disk or database is 507, a busy
/// or unavailable catalog or an unwritable folder is 503 with Retry-After, a catalog in read-only mode is 503
/// <c>catalog_read_only</c> (507 when its disk is full) with Retry-After, a body the client cut short is 400. Until
/// start-up has found the storage root writable, nothing is tried: 503 storage_unavailable.
/// </summary>
internal sealed partial class StorageFailureFilter(StorageState storage, ILogger<StorageFailureFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!storage.IsReady)
        {
            // The client gets no server path; readiness (for operators) names Storage:Root and the folder.
            return IngestProblems.StorageUnavailable("the storage is not writable yet; the service keeps checking it");
        }

        try
        {
            return await next(context);
        }
        catch (RequestBodyException ex) when (!context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return IngestProblems.MalformedUpload(ex.InnerException?.Message ?? ex.Message);
        }
        catch (StorageUnavailableException ex)
        {
            LogStorageMissing(ex.Message);
            return IngestProblems.StorageUnavailable(ex.Message);
        }
        catch (CatalogUnavailableException ex)
        {
            return IngestProblems.CatalogUnavailable(ex.Message);
        }
        catch (DatabaseReadOnlyException ex)
        {
            // Already logged when the catalog entered read-only mode; each refusal is only counted (problem metrics).
            return IngestProblems.CatalogReadOnly(ex);
        }
        catch (SqliteException ex)
        {
            LogCatalogFailure(ex, ex.SqliteErrorCode);
            return ex.SqliteErrorCode switch
            {
                CatalogDb.SqliteFull => IngestProblems.InsufficientStorage(),
                CatalogDb.SqliteBusy or CatalogDb.SqliteLocked => IngestProblems.CatalogBusy(),
                _ => IngestProblems.CatalogUnavailable($"SQLite error {ex.SqliteErrorCode}."),
            };
        }
        catch (IOException ex) when (ex is not BadHttpRequestException && !context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            LogStorageFailure(ex);
            return StorageFailures.IsDiskFull(ex) ? IngestProblems.InsufficientStorage() : IngestProblems.StorageUnavailable("I/O error");
        }
        catch (UnauthorizedAccessException ex)
        {
            LogStorageFailure(ex);
            return IngestProblems.StorageUnavailable("permission denied");
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Catalog failure (SQLite error {Code})")]
    private partial void LogCatalogFailure(Exception exception, int code);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage unavailable: {Reason}")]
    private partial void LogStorageMissing(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage failure")]
    private partial void LogStorageFailure(Exception exception);
}
