using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LabelStudioEmulator.Auth;

/// <summary>
/// Label Studio's two credential kinds: a legacy token (<c>Authorization: Token key</c>, never expires) and a
/// Personal Access Token, which is a JWT refresh token exchanged at POST /api/token/refresh/ for short-lived
/// access JWTs sent as <c>Authorization: Bearer access</c>. Signed HS256 with a per-instance secret.
/// </summary>
public sealed class TokenService
{
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, bool> _blacklist = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _issuedAccess = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly EmulatorSettings _settings;
    private int _refreshCount;

    public TokenService(EmulatorSettings settings, TimeProvider time)
    {
        _settings = settings;
        _time = time;
        LegacyToken = string.IsNullOrWhiteSpace(settings.LegacyToken)
            ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20))
            : settings.LegacyToken;
    }

    public string LegacyToken { get; }

    /// <summary>How many access tokens POST /api/token/refresh/ has issued.</summary>
    public int RefreshCount => Volatile.Read(ref _refreshCount);

    public string IssuePersonalAccessToken(TimeSpan? lifetime = null) =>
        Sign("refresh", _time.GetUtcNow() + (lifetime ?? TimeSpan.FromDays(365)));

    public void Blacklist(string refreshToken)
    {
        if (TryRead(refreshToken, out var payload) && payload["jti"]?.GetValue<string>() is { } jti)
        {
            _blacklist[jti] = true;
        }
    }

    /// <summary>Exchanges a refresh token (PAT) for an access token; null with the reason when refused.</summary>
    public string? Refresh(string? refreshToken, bool credentialsRevoked, out string error)
    {
        error = "Token is invalid or expired";
        if (credentialsRevoked || string.IsNullOrEmpty(refreshToken) || !Validate(refreshToken, "refresh"))
        {
            return null;
        }

        Interlocked.Increment(ref _refreshCount);
        var access = Sign("access", _time.GetUtcNow() + TimeSpan.FromSeconds(_settings.AccessTokenLifetimeSeconds));
        if (TryRead(access, out var payload))
        {
            _issuedAccess[payload["jti"]!.GetValue<string>()] = true;
        }

        return access;
    }

    /// <summary>Invalidates every access token issued so far (as a server restart with a new key would); PATs stay valid.</summary>
    public void InvalidateAccessTokens()
    {
        foreach (var jti in _issuedAccess.Keys)
        {
            _blacklist[jti] = true;
        }
    }

    /// <summary>The DRF authentication outcome of an Authorization header.</summary>
    public AuthOutcome Authenticate(string? header, bool credentialsRevoked)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return AuthOutcome.Fail(null, "Authentication credentials were not provided.");
        }

        var space = header.IndexOf(' ', StringComparison.Ordinal);
        var scheme = space > 0 ? header[..space] : header;
        var value = space > 0 ? header[(space + 1)..].Trim() : "";
        if (scheme.Equals("Token", StringComparison.OrdinalIgnoreCase))
        {
            var ok = !credentialsRevoked && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(value), Encoding.UTF8.GetBytes(LegacyToken));
            return ok ? AuthOutcome.Ok("Token") : AuthOutcome.Fail("Token", "Invalid token.");
        }

        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            var ok = !credentialsRevoked && Validate(value, "access");
            return ok ? AuthOutcome.Ok("Bearer") : AuthOutcome.Fail("Bearer", "Given token not valid for any token type");
        }

        return AuthOutcome.Fail(scheme, "Authentication credentials were not provided.");
    }

    private string Sign(string tokenType, DateTimeOffset expires)
    {
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["token_type"] = tokenType,
            ["exp"] = expires.ToUnixTimeSeconds(),
            ["iat"] = _time.GetUtcNow().ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["user_id"] = 1,
        }));
        var signature = Base64Url(HMACSHA256.HashData(_secret, Encoding.ASCII.GetBytes(header + "." + payload)));
        return header + "." + payload + "." + signature;
    }

    private bool Validate(string token, string expectedType)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        var expected = Base64Url(HMACSHA256.HashData(_secret, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1])));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(parts[2])))
        {
            return false;
        }

        if (!TryRead(token, out var payload))
        {
            return false;
        }

        var type = payload["token_type"]?.GetValue<string>();
        var exp = payload["exp"]?.GetValue<long>() ?? 0;
        var jti = payload["jti"]?.GetValue<string>() ?? "";
        return type == expectedType && exp > _time.GetUtcNow().ToUnixTimeSeconds() && !_blacklist.ContainsKey(jti);
    }

    private static bool TryRead(string token, out JsonObject payload)
    {
        payload = new JsonObject();
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        try
        {
            var padded = parts[1].Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - (padded.Length % 4)) % 4);
            if (JsonNode.Parse(Convert.FromBase64String(padded)) is JsonObject obj)
            {
                payload = obj;
                return true;
            }
        }
        catch (FormatException)
        {
        }
        catch (JsonException)
        {
        }

        return false;
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}

public sealed record AuthOutcome(bool Authenticated, string? Scheme, string? Detail)
{
    public static AuthOutcome Ok(string scheme) => new(true, scheme, null);

    public static AuthOutcome Fail(string? scheme, string detail) => new(false, scheme, detail);
}
