using System.Text.Json.Nodes;
using LabelStudioEmulator.Model;

namespace LabelStudioEmulator.Api;

internal static class ProjectEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/api/projects/", CreateAsync);
        app.MapGet("/api/projects/", List);
        app.MapGet("/api/projects/{id:int}/", (int id, EmulatorState state) =>
            state.Store.FindProject(id) is { } project ? Results.Json(state.Store.ProjectJson(project)) : LsErrors.NotFound("No Project matches the given query."));
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, EmulatorState state)
    {
        var (body, error) = await RequestJson.ReadAsync(request);
        if (error is not null)
        {
            return error;
        }

        if (body is not JsonObject obj)
        {
            return LsErrors.Validation("non_field_errors", "Invalid data. Expected a dictionary.");
        }

        var xml = RequestJson.String(obj, "label_config") ?? "<View></View>";
        var config = LabelConfig.TryParse(xml, out var problem);
        if (config is null)
        {
            return LsErrors.Validation("label_config", problem);
        }

        var title = RequestJson.String(obj, "title") ?? "";
        if (title.Length > 50)
        {
            return LsErrors.Validation("title", "Ensure this field has no more than 50 characters.");
        }

        var project = state.Store.CreateProject(title, RequestJson.String(obj, "description") ?? "", xml, config, state.Time.GetUtcNow());
        return Results.Json(state.Store.ProjectJson(project), statusCode: 201);
    }

    private static IResult List(HttpRequest request, EmulatorState state)
    {
        var page = RequestJson.QueryInt(request, "page") ?? 1;
        var size = Math.Clamp(RequestJson.QueryInt(request, "page_size") ?? 30, 1, 1000);
        var all = state.Store.Projects(request.Query["title"].ToString());
        if (page < 1 || (page > 1 && (page - 1) * size >= all.Count))
        {
            return LsErrors.NotFound("Invalid page.");
        }

        var results = new JsonArray([.. all.Skip((page - 1) * size).Take(size).Select(p => (JsonNode)state.Store.ProjectJson(p))]);
        var baseUrl = $"{request.Scheme}://{request.Host}{request.Path}";
        return Results.Json(new JsonObject
        {
            ["count"] = all.Count,
            ["next"] = page * size < all.Count ? $"{baseUrl}?page={page + 1}&page_size={size}" : null,
            ["previous"] = page > 1 ? $"{baseUrl}?page={page - 1}&page_size={size}" : null,
            ["results"] = results,
        });
    }
}
