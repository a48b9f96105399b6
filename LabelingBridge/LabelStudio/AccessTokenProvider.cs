using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LabelingBridge.Configuration;
using Microsoft.Extensions.Options;

namespace LabelingBridge.LabelStudio;

/// <summary>
/// The Authorization header for Label Studio. A legacy token is sent as <c>Token key</c>. A Personal Access Token
/// (a JWT with <c>exp</c>) is a refresh token: it is exchanged at POST /api/token/refresh/ for an access token sent
/// as <c>Bearer</c>, cached until shortly before it expires. The key itself is never logged.
/// </summary>
public sealed class AccessTokenProvider
{
    public const string TokenClientName = "label-studio-token";

    private static readonly TimeSpan ExpirySkew = TimeSpan.FromSeconds(30);
    private readonly IHttpClientFactory _clients;
    private readonly TimeProvider _time;
    private readonly string _apiKey;
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    // One access token, until shortly before its own expiry (its JWT exp, else 4 minutes).
    private (string Token, DateTimeOffset RefreshAt)? _access;

    public AccessTokenProvider(IOptions<LabelStudioOptions> options, IHttpClientFactory clients, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _clients = clients;
        _time = time;
        _apiKey = options.Value.ApiKey ?? "";
        UsesRefreshFlow = JwtExpiry(_apiKey) is not null;
    }

    /// <summary>True when the key is a JWT with an expiry, i.e. a Personal Access Token.</summary>
    public bool UsesRefreshFlow { get; }

    /// <summary>Access tokens obtained so far (for diagnostics and tests).</summary>
    public int Refreshes { get; private set; }

    public async ValueTask<AuthenticationHeaderValue> GetAuthorizationAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        if (!UsesRefreshFlow)
        {
            return new AuthenticationHeaderValue("Token", _apiKey);
        }

        var cached = _access;
        if (!forceRefresh && cached is { } c && _time.GetUtcNow() < c.RefreshAt)
        {
            return new AuthenticationHeaderValue("Bearer", c.Token);
        }

        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have refreshed while this one waited.
            if (_access is { } fresh && !ReferenceEquals(fresh.Token, cached?.Token) && _time.GetUtcNow() < fresh.RefreshAt)
            {
                return new AuthenticationHeaderValue("Bearer", fresh.Token);
            }

            var token = await RefreshAsync(cancellationToken);
            var expires = JwtExpiry(token) ?? _time.GetUtcNow().AddMinutes(4);
            var refreshAt = expires - ExpirySkew;
            if (refreshAt <= _time.GetUtcNow())
            {
                // Very short-lived tokens: use them for half their life.
                refreshAt = _time.GetUtcNow() + ((expires - _time.GetUtcNow()) / 2);
            }

            _access = (token, refreshAt);
            Refreshes++;
            return new AuthenticationHeaderValue("Bearer", token);
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private async Task<string> RefreshAsync(CancellationToken cancellationToken)
    {
        var http = _clients.CreateClient(TokenClientName);
        using var response = await http.PostAsJsonAsync("api/token/refresh/", new { refresh = _apiKey }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            if ((int)response.StatusCode >= 500)
            {
                // Counted by the breaker like any other server failure.
                throw new HttpRequestException($"Label Studio failed to refresh the access token (HTTP {(int)response.StatusCode})", null, response.StatusCode);
            }

            var status = (int)response.StatusCode is 400 ? 401 : (int)response.StatusCode;
            throw new LabelStudioException(LabelStudioError.FromStatus(status, "refreshing the Personal Access Token failed: " + LabelStudioError.DetailOf(body)));
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("access", out var access) && access.GetString() is { Length: > 0 } token
            ? token
            : throw new LabelStudioException(new LabelStudioError(LabelStudioErrorCodes.UnexpectedResponse, true, "Label Studio's token refresh answer has no access token."));
    }

    /// <summary>The <c>exp</c> of a JWT, or null when the text is not a JWT with one.</summary>
    public static DateTimeOffset? JwtExpiry(string? token)
    {
        var parts = token?.Split('.');
        if (parts is not { Length: 3 } || parts[1].Length == 0)
        {
            return null;
        }

        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload += new string('=', (4 - (payload.Length % 4)) % 4);
            using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
            return json.RootElement.ValueKind == JsonValueKind.Object &&
                   json.RootElement.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }
}
