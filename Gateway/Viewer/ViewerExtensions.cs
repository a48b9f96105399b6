using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The document viewer: plain static files from <c>wwwroot/</c> (index.html, its ES modules and stylesheet; no build
/// step) served at <c>/</c> without a key. The page asks for the API key itself and sends it on every <c>/api</c> call.
/// </summary>
public static partial class ViewerExtensions
{
    /// <summary>
    /// The page's own policy: only the gateway's own scripts, styles, images (page images; pictures as blob URLs) and
    /// API; no inline script, nothing from elsewhere.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// Static file middleware for the viewer, placed after the front door and before the endpoints run. It serves a file
    /// only when routing matched no endpoint, so the YARP routes (and the API key policy they name), /health, /metrics,
    /// /docs and /openapi are never shadowed; and wwwroot has no folder of those names.
    /// </summary>
    public static WebApplication MapViewer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var files = app.Environment.WebRootFileProvider;
        if (files is NullFileProvider || !files.GetFileInfo("index.html").Exists)
        {
            // The API matters more than the page: the gateway starts without it and says why.
            LogViewerMissing(app.Logger, app.Environment.ContentRootPath);
            return app;
        }

        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, DefaultFileNames = ["index.html"] });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            ServeUnknownFileTypes = false,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                // Small files that change with the gateway: always revalidated (ETag), never stale after an update.
                headers.CacheControl = "no-cache";
                headers.XContentTypeOptions = "nosniff";
                headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
                headers["Referrer-Policy"] = "no-referrer";
            },
        });
        return app;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The document viewer is not served: no wwwroot/index.html under {ContentRoot} (run the gateway from its project folder or its publish output)")]
    private static partial void LogViewerMissing(ILogger logger, string contentRoot);
}
