using System.Security.Cryptography;
using System.Text;

namespace Suite.Testing.Webhooks;

/// <summary>
/// A receiver's check of a notification, written from docs/webhooks.md alone (the same code as its snippet): the key is
/// the base64 after <c>whsec_</c>; the expected signature is <c>v1,</c> + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"));
/// the header may list several, space-separated.
/// </summary>
public static class WebhookVerifier
{
    public static bool Verify(string secret, string id, string timestamp, string body, string signatureHeader)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(signatureHeader);
        if (!secret.StartsWith("whsec_", StringComparison.Ordinal))
        {
            return false;
        }

        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        var expected = Encoding.ASCII.GetBytes("v1," + Convert.ToBase64String(mac));
        foreach (var candidate in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate), expected))
            {
                return true;
            }
        }

        return false;
    }
}
