using System.Text.Json.Nodes;

namespace LabelStudioEmulator;

/// <summary>
/// Label Studio's error body, as its DRF exception handler writes it:
/// <c>{id, status_code, version, detail, exc_info, validation_errors?}</c>.
/// </summary>
public static class LsErrors
{
    public static IResult Result(int status, string detail, JsonObject? validationErrors = null, string? excInfo = null, string version = "1.21.0")
    {
        var body = new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["status_code"] = status,
            ["version"] = version,
            ["detail"] = detail,
            ["exc_info"] = excInfo,
        };
        if (validationErrors is not null)
        {
            body["validation_errors"] = validationErrors;
        }

        return Results.Json(body, statusCode: status);
    }

    public static IResult Validation(string field, params string[] messages)
    {
        var list = new JsonArray();
        foreach (var m in messages)
        {
            list.Add(m);
        }

        return Result(400, "Validation error", new JsonObject { [field] = list });
    }

    public static IResult NotFound(string detail = "Not found.") => Result(404, detail);

    public static Task WriteAsync(HttpContext context, int status, string detail, string? excInfo = null)
    {
        var result = Result(status, detail, excInfo: excInfo);
        return result.ExecuteAsync(context);
    }
}
