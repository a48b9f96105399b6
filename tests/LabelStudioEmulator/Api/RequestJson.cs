using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LabelStudioEmulator.Api;

internal static class RequestJson
{
    /// <summary>The request body as JSON, or DRF's 400 "JSON parse error" result.</summary>
    public static async Task<(JsonNode? Body, IResult? Error)> ReadAsync(HttpRequest request)
    {
        try
        {
            var body = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            return (body, null);
        }
        catch (JsonException ex)
        {
            return (null, LsErrors.Result(400, "JSON parse error - " + ex.Message));
        }
    }

    public static int? QueryInt(HttpRequest request, string name) =>
        int.TryParse(request.Query[name].ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static bool QueryBool(HttpRequest request, string name, bool fallback)
    {
        var raw = request.Query[name].ToString();
        return raw.Length == 0 ? fallback : raw is "1" or "true" or "True" or "yes";
    }

    public static string? String(JsonObject obj, string key) =>
        obj[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
