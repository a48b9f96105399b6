using System.Text.Json;

namespace IngestService.Batches;

/// <summary>
/// What an endpoint result would have answered (status and JSON body), written into memory instead of the response:
/// a batch lists, per file, exactly the answer a single upload of it gets, made by the same code.
/// </summary>
internal static class ResultCapture
{
    public static async Task<(int Status, JsonElement Body)> CaptureAsync(IResult result, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(http);
        var scratch = new DefaultHttpContext { RequestServices = http.RequestServices, TraceIdentifier = http.TraceIdentifier };
        scratch.Request.Method = http.Request.Method;
        scratch.Request.Path = http.Request.Path;
        await using var body = new MemoryStream();
        scratch.Response.Body = body;
        await result.ExecuteAsync(scratch);
        body.Position = 0;
        using var json = await JsonDocument.ParseAsync(body);
        return (scratch.Response.StatusCode, json.RootElement.Clone());
    }
}
