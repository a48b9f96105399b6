using Microsoft.AspNetCore.Http.Features;

namespace Gateway.FrontDoor;

/// <summary>
/// Refuses request targets whose meaning could differ between the gateway and a service behind it: encoded slashes,
/// backslashes and dots, dot segments and empty segments. Kestrel would normalise some of them and forward others
/// encoded; refusing them all means the route the gateway matched is the route the service sees.
/// </summary>
internal static class PathGuard
{
    private static readonly string[] EncodedSeparators = ["%2f", "%5c", "%2e", "%00"];

    public static bool IsAmbiguous(string rawTarget)
    {
        ArgumentNullException.ThrowIfNull(rawTarget);
        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var path = query >= 0 ? rawTarget[..query] : rawTarget;
        // Absolute-form (http://host/path): check the path part exactly as sent.
        var scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0 && path[..scheme].All(char.IsAsciiLetter))
        {
            var slash = path.IndexOf('/', scheme + 3);
            path = slash < 0 ? "/" : path[slash..];
        }

        if (path.Length == 0 || path[0] != '/')
        {
            // Asterisk-form and anything else that is not a path.
            return true;
        }

        if (path.Contains('\\', StringComparison.Ordinal) || path.Contains("//", StringComparison.Ordinal) || path.Any(char.IsControl))
        {
            return true;
        }

        foreach (var encoded in EncodedSeparators)
        {
            if (path.Contains(encoded, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return path.Split('/').Any(segment => segment is "." or "..");
    }

    public static IApplicationBuilder UseAmbiguousPathGuard(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            // RawTarget is the target as received; hosts that do not set it (the in-memory test server) give the path.
            var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target
                ? target
                : context.Request.PathBase.Add(context.Request.Path).Value ?? "/";
            if (IsAmbiguous(raw))
            {
                context.RequestServices.GetRequiredService<FrontDoorMetrics>().PathRefused();
                await GatewayProblems.InvalidPath().ExecuteAsync(context);
                return;
            }

            await next(context);
        });
}
