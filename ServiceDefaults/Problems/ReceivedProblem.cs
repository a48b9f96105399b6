using System.Text.Json;

namespace Suite.ServiceDefaults.Problems;

/// <summary>
/// What a service's problem+json answer said, as a client of another suite service reads it: the stable code and the
/// detail (both null when the body is not a problem object), and Retry-After when the answer carried one.
/// </summary>
public sealed record ReceivedProblem(string? Code, string? Detail, TimeSpan? RetryAfter)
{
    public static async Task<ReceivedProblem> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        try
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (string.IsNullOrWhiteSpace(body))
            {
                return new ReceivedProblem(null, null, retryAfter);
            }

            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            return root.ValueKind != JsonValueKind.Object
                ? new ReceivedProblem(null, null, retryAfter)
                : new ReceivedProblem(StringOf(root, "code"), StringOf(root, "detail"), retryAfter);
        }
        catch (JsonException)
        {
            return new ReceivedProblem(null, null, retryAfter);
        }
    }

    private static string? StringOf(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
