using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelStudioEmulator.Model;

namespace LabelStudioEmulator.Api;

/// <summary>GET /api/tasks/ (paged, 404 past the last page), GET /api/tasks/{id}/, and the JSON export.</summary>
internal static class TaskEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/api/tasks/", List);
        app.MapGet("/api/tasks/{id:int}/", (int id, EmulatorState state) =>
            state.Store.FindTask(id) is { } task ? Results.Json(state.Store.TaskJson(task, full: true)) : LsErrors.NotFound());
        app.MapGet("/api/projects/{id:int}/export", Export);
    }

    private static IResult List(HttpRequest request, EmulatorState state)
    {
        var projectId = RequestJson.QueryInt(request, "project");
        if (projectId is null)
        {
            return LsErrors.Validation("project", "This field is required.");
        }

        if (state.Store.FindProject(projectId.Value) is null)
        {
            return LsErrors.NotFound("No Project matches the given query.");
        }

        IEnumerable<TaskRecord> tasks = state.Store.Tasks(projectId.Value);
        var query = request.Query["query"].ToString();
        if (query.Length > 0)
        {
            var filter = ParseFilter(query, out var problem);
            if (filter is null)
            {
                return LsErrors.Validation("query", problem);
            }

            tasks = tasks.Where(filter);
        }

        var all = tasks.ToList();
        var page = RequestJson.QueryInt(request, "page") ?? 1;
        var size = Math.Clamp(RequestJson.QueryInt(request, "page_size") ?? 100, 1, 1000);
        if (page < 1 || (page > 1 && (page - 1) * size >= all.Count))
        {
            return LsErrors.NotFound("Invalid page.");
        }

        var full = request.Query["fields"].ToString() == "all";
        return Results.Json(new JsonObject
        {
            ["tasks"] = new JsonArray([.. all.Skip((page - 1) * size).Take(size).Select(t => (JsonNode)state.Store.TaskJson(t, full))]),
            ["total"] = all.Count,
            ["total_annotations"] = all.Sum(t => t.Annotations.Count(a => !a.WasCancelled)),
            ["total_predictions"] = all.Sum(t => t.Predictions.Count),
        });
    }

    /// <summary>Data Manager filters: <c>{"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:data.doc_id", "operator": "equal", "value": ...}]}}</c>.</summary>
    private static Func<TaskRecord, bool>? ParseFilter(string query, out string problem)
    {
        problem = "";
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(query);
        }
        catch (JsonException ex)
        {
            problem = "query must be JSON: " + ex.Message;
            return null;
        }

        if (root?["filters"] is not JsonObject filters)
        {
            return _ => true;
        }

        var any = string.Equals(filters["conjunction"]?.ToString(), "or", StringComparison.OrdinalIgnoreCase);
        var predicates = new List<Func<TaskRecord, bool>>();
        foreach (var node in filters["items"] as JsonArray ?? [])
        {
            var name = node?["filter"]?.ToString() ?? "";
            var op = node?["operator"]?.ToString() ?? "equal";
            var expected = node?["value"] is JsonValue v ? Text(v) : "";
            Func<TaskRecord, string?> field;
            if (name.StartsWith("filter:tasks:data.", StringComparison.Ordinal))
            {
                var key = name["filter:tasks:data.".Length..];
                field = t => t.Data[key] is JsonValue dv ? Text(dv) : null;
            }
            else if (name == "filter:tasks:id")
            {
                field = t => t.Id.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                problem = $"filter \"{name}\" is not supported by the emulator";
                return null;
            }

            predicates.Add(op switch
            {
                "equal" => t => field(t) == expected,
                "not_equal" => t => field(t) != expected,
                "contains" => t => field(t)?.Contains(expected, StringComparison.OrdinalIgnoreCase) == true,
                _ => _ => false,
            });
        }

        return t => predicates.Count == 0 || (any ? predicates.Any(p => p(t)) : predicates.All(p => p(t)));
    }

    private static string Text(JsonValue value) =>
        value.TryGetValue<string>(out var s) ? s : value.ToJsonString();

    private static IResult Export(int id, HttpRequest request, HttpResponse response, EmulatorState state)
    {
        var project = state.Store.FindProject(id);
        if (project is null)
        {
            return LsErrors.NotFound("No Project matches the given query.");
        }

        var type = request.Query["exportType"].ToString();
        if (type.Length == 0)
        {
            type = request.Query["export_type"].ToString();
        }

        if (type.Length == 0)
        {
            type = "JSON";
        }

        if (!type.Equals("JSON", StringComparison.OrdinalIgnoreCase))
        {
            return LsErrors.Result(400, $"The emulator exports JSON only, not {type}.");
        }

        var all = RequestJson.QueryBool(request, "download_all_tasks", false);
        var tasks = state.Store.Tasks(id).Where(t => all || t.Annotations.Count > 0).Select(t => (JsonNode)state.Store.TaskJson(t, full: true));
        var now = state.Time.GetUtcNow();
        response.Headers.ContentDisposition = $"attachment; filename=\"project-{id}-at-{now.UtcDateTime:yyyy-MM-dd-HH-mm}-{Guid.NewGuid().ToString("N")[..8]}.json\"";
        return Results.Json(new JsonArray([.. tasks]));
    }
}
