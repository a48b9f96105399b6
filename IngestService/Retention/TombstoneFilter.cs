using IngestService.Documents;

namespace IngestService.Retention;

/// <summary>
/// On every public route of one document (<c>/api/documents/{id}…</c>: status, result, pages, pictures, events,
/// DELETE, retry): a removed document answers 410 <c>document_expired</c> or <c>document_deleted</c> instead of
/// whatever the endpoint would say about an id it does not know. One primary-key read of the tombstones.
/// </summary>
internal sealed class TombstoneFilter(Tombstones tombstones) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (http.Request.RouteValues.TryGetValue("id", out var value) && value is string id && DocumentId.IsValid(id)
            && await tombstones.FindAsync(id, http.RequestAborted) is { } tombstone)
        {
            return RetentionProblems.Gone(tombstone);
        }

        return await next(context);
    }
}
