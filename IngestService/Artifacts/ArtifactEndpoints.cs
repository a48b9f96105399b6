using IngestService.Api;
using IngestService.Artifacts;
using IngestService.Catalog;
using IngestService.Documents;
using IngestService.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.ServiceDefaults.Problems;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Stage artifacts. Workers store them through the internal API (lease-fenced like every worker write, routes in
/// <see cref="InternalApi"/>): <c>PUT /internal/documents/{id}/artifacts/pages/{n}.png</c> and
/// <c>PUT|GET /internal/documents/{id}/artifacts/pictures/{pictureId}</c>. Clients read them through the public API
/// (routed by the gateway): <c>GET /api/documents/{id}/pages/{n}/image</c> and <c>GET /api/documents/{id}/pictures/{pictureId}</c>.
/// </summary>
internal static class ArtifactEndpoints
{
    public static WebApplication MapArtifactEndpoints(this WebApplication app)
    {
        var internalGroup = app.MapGroup(InternalApi.Prefix + "/documents/{id}/artifacts").AddEndpointFilter<StorageFailureFilter>().WithTags("internal");
        internalGroup.MapPut("pages/{page:int}.png", PutPageAsync);
        internalGroup.MapPut("pictures/{pictureId}", PutPictureAsync);
        internalGroup.MapGet("pictures/{pictureId}", GetPictureAsync);

        var publicGroup = app.MapGroup(DocumentRoutes.Prefix + "/{id}").AddEndpointFilter<StorageFailureFilter>().AddEndpointFilter<IngestService.Retention.TombstoneFilter>().WithTags("documents")
            .ProducesStorageProblems();
        publicGroup.MapGet("pages/{page}/image", GetPageAsync)
            .WithName("GetPageImage")
            .WithSummary("Get the image of a page (PNG)")
            .Produces(StatusCodes.Status200OK, typeof(Stream), "image/png")
            .ProducesApiProblem(404, "document_not_found", "page_image_not_found");
        publicGroup.MapGet("pictures/{pictureId}", GetPictureAsync)
            .WithName("GetPicture")
            .WithSummary("Get a picture cut out of a page")
            .Produces(StatusCodes.Status200OK, typeof(Stream), "image/png", "image/jpeg")
            .ProducesApiProblem(404, "document_not_found", "picture_not_found");
        return app;
    }

    private static Task<IResult> PutPageAsync(
        string id, int page, HttpContext http, [FromServices] LeaseFence fence, [FromServices] ArtifactStore store, [FromServices] IOptions<IngestOptions> options) =>
        !ArtifactStore.IsPageNumber(page)
            ? Task.FromResult(PageNotFound(id, page.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            : StoreAsync(id, http, fence, store, ArtifactKind.PageImage, _ => store.PagePath(id, page), options.Value.MaxWorkerBodyBytes);

    private static Task<IResult> PutPictureAsync(
        string id, string pictureId, HttpContext http, [FromServices] LeaseFence fence, [FromServices] ArtifactStore store, [FromServices] IOptions<IngestOptions> options) =>
        !ArtifactStore.IsPictureId(pictureId)
            ? Task.FromResult(PictureNotFound(id, pictureId))
            : StoreAsync(id, http, fence, store, ArtifactKind.Picture, type => store.PicturePath(id, pictureId, type), options.Value.MaxWorkerBodyBytes);

    /// <summary>
    /// Streams the body to a temp file beside the target (its signature checked on the way, flushed to disk), then
    /// renames it into place under the catalog's write lock, only while the presented lease is the current one.
    /// </summary>
    private static async Task<IResult> StoreAsync(string id, HttpContext http, LeaseFence fence, ArtifactStore store, ArtifactKind kind, Func<string, string> pathFor, long maxBytes)
    {
        if (WorkerEndpoints.Validate(id, null, http, out var lease) is { } invalid)
        {
            return invalid;
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        // The final name depends on the sniffed type, so the temp file lives in the document's artifact folder.
        string? type = null;
        var staging = pathFor(kind.ContentTypes[0]);
        store.EnsureStoragePresent();
        Directory.CreateDirectory(Path.GetDirectoryName(staging)!);
        var temp = BlobStore.SiblingTempPath(staging);
        try
        {
            var written = await BlobStore.WriteTempAsync(http.Request.Body, temp, maxBytes, chunk =>
            {
                type ??= kind.Sniff(chunk.Span);
                return type is not null;
            }, http.RequestAborted);
            switch (written.Status)
            {
                case BlobWriteStatus.TooLarge:
                    return IngestProblems.BodyTooLarge(maxBytes);
                case BlobWriteStatus.Refused:
                    return InvalidImage(kind);
            }

            if (type is null)
            {
                return InvalidImage(kind);
            }

            var target = pathFor(type);
            var outcome = await fence.PublishUnderLeaseAsync(id, lease, kind.Name, () => File.Move(temp, target, overwrite: true), http.RequestAborted);
            return WorkerEndpoints.Answer(outcome, id, http, () => TypedResults.NoContent());
        }
        finally
        {
            BlobStore.DeleteQuietly(temp);
        }
    }

    private static async Task<IResult> GetPageAsync(string id, string page, [FromServices] DocumentReads reads, [FromServices] ArtifactStore store, CancellationToken cancellationToken)
    {
        if (!DocumentId.IsValid(id) || await reads.FindAsync(id, cancellationToken) is null)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (!int.TryParse(page, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || !ArtifactStore.IsPageNumber(number))
        {
            return PageNotFound(id, page);
        }

        var path = store.PagePath(id, number);
        if (File.Exists(path))
        {
            return TypedResults.PhysicalFile(path, "image/png");
        }

        store.EnsureStoragePresent();
        return PageNotFound(id, page);
    }

    private static async Task<IResult> GetPictureAsync(string id, string pictureId, [FromServices] DocumentReads reads, [FromServices] ArtifactStore store, CancellationToken cancellationToken)
    {
        if (!DocumentId.IsValid(id) || await reads.FindAsync(id, cancellationToken) is null)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (ArtifactStore.IsPictureId(pictureId) && store.FindPicture(id, pictureId) is { } found)
        {
            return TypedResults.PhysicalFile(found.Path, found.ContentType);
        }

        store.EnsureStoragePresent();
        return PictureNotFound(id, pictureId);
    }

    private static IResult PageNotFound(string id, string page) => ApiProblem.Result(404, "page_image_not_found", "No page image",
        $"Document {id} has no image of page '{Clip(page)}'. Pages are numbered from 1; a page has an image once the render stage stored it " +
        "(see the document's stages: render may be degraded or skipped). Check GET /api/documents/{id} and its result's pages[].image.");

    private static IResult PictureNotFound(string id, string pictureId) => ApiProblem.Result(404, "picture_not_found", "No picture",
        $"Document {id} has no picture '{Clip(pictureId)}'. Use an id from the result's pictures[] (for example p1-pic1) whose url is set.");

    private static IResult InvalidImage(ArtifactKind kind) => ApiProblem.Result(400, "invalid_body", "Invalid request body",
        $"The body must be a {kind.Name} as {string.Join(" or ", kind.ContentTypes)} (checked by its file signature).");

    private static string Clip(string value) => value.Length <= 80 ? value : value[..80] + "...";
}
