using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Gateway.FrontDoor;

/// <summary>
/// Authenticates a request by its API key (<c>X-Api-Key</c>, or <c>Authorization: Bearer</c>, or for a browser's
/// WebSocket the offered subprotocol <c>suite-key.&lt;base64url(key)&gt;</c>: <see cref="WebSocketKeyProtocol"/>). The identity is the
/// key's configured name. Keys are compared as SHA-256 digests in constant time; the presented key is never logged.
/// </summary>
internal sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    ApiKeyRegistry registry,
    FrontDoorMetrics metrics)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggers, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    private const string FailureItem = "suite.apikey.failure";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request);
        if (presented is null)
        {
            Context.Items[FailureItem] = "missing";
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (registry.Find(presented) is not { } client)
        {
            Context.Items[FailureItem] = "invalid";
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }

        // The client's name (never its key) labels its traces, its request metrics and its rate-limit partition.
        Activity.Current?.SetTag(FrontDoorMetrics.ClientTag, client);
        Context.Features.Get<IHttpMetricsTagsFeature>()?.Tags.Add(new(FrontDoorMetrics.ClientTag, client));
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, client)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var missing = !Context.Items.TryGetValue(FailureItem, out var reason) || reason as string == "missing";
        metrics.AuthenticationFailed(missing ? "missing" : "invalid");
        LogRefused(Logger, missing ? "no API key" : "an unknown API key", Request.Method, Request.Path, Context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{HeaderName}\", Bearer";
        await (missing ? GatewayProblems.ApiKeyMissing() : GatewayProblems.ApiKeyInvalid()).ExecuteAsync(Context);
    }

    /// <summary>The key a request presents, or null when it presents none.</summary>
    internal static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers[HeaderName].ToString();
        if (!string.IsNullOrWhiteSpace(header))
        {
            return header.Trim();
        }

        var authorization = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        return authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) && authorization.Length > bearer.Length
            ? authorization[bearer.Length..].Trim()
            : WebSocketKeyProtocol.PresentedKey(request);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path} from {RemoteAddress}: the request carries {What}")]
    private static partial void LogRefused(ILogger logger, string what, string method, string path, string remoteAddress);
}

/// <summary>The configured clients, held as digests of their keys so no key is compared or kept in plain text.</summary>
internal sealed class ApiKeyRegistry(IOptions<ApiKeyOptions> options)
{
    // Bounded by construction: the configured keys only (Gateway:ApiKeys), never a presented one.
    private readonly (byte[] Digest, string Name)[] _clients =
        options.Value.ApiKeys.Select(c => (Digest(c.Key), c.Name)).ToArray();

    public string? Find(string presented)
    {
        var digest = Digest(presented);
        string? found = null;
        // Every entry is compared, so the time taken does not tell which entry (if any) matched.
        foreach (var (known, name) in _clients)
        {
            if (CryptographicOperations.FixedTimeEquals(known, digest))
            {
                found = name;
            }
        }

        return found;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
