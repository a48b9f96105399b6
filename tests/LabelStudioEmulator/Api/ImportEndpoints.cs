using System.Diagnostics;
using System.Text.Json.Nodes;
using LabelStudioEmulator.Model;
using LabelStudioEmulator.Webhooks;

namespace LabelStudioEmulator.Api;

/// <summary>POST /api/projects/{id}/import, its asynchronous status, and the bulk predictions import.</summary>
internal static class ImportEndpoints
{
    private static readonly string[] ReservedTaskKeys = ["data", "annotations", "completions", "predictions", "meta", "id"];

    public static void Map(WebApplication app)
    {
        app.MapPost("/api/projects/{id:int}/import", ImportAsync);
        app.MapGet("/api/projects/{id:int}/imports/{importId:int}/", ImportStatus);
        app.MapPost("/api/projects/{id:int}/import/predictions", ImportPredictionsAsync);
    }

    private static async Task<IResult> ImportAsync(int id, HttpRequest request, EmulatorState state, WebhookSender webhooks)
    {
        var clock = Stopwatch.StartNew();
        var project = state.Store.FindProject(id);
        if (project is null)
        {
            return LsErrors.NotFound("No Project matches the given query.");
        }

        var (body, error) = await RequestJson.ReadAsync(request);
        if (error is not null)
        {
            return error;
        }

        var items = body switch
        {
            JsonArray array => array.ToList(),
            JsonObject one => [one],
            _ => null,
        };
        if (items is null || items.Count == 0)
        {
            return LsErrors.Validation("non_field_errors", "No tasks found in the request body.");
        }

        var tasks = new List<(JsonObject, JsonArray, JsonArray)>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not JsonObject item)
            {
                return LsErrors.Validation("non_field_errors", $"Task #{i} must be a dict.");
            }

            JsonObject data;
            if (item["data"] is JsonObject explicitData)
            {
                data = (JsonObject)explicitData.DeepClone();
            }
            else
            {
                data = new JsonObject();
                foreach (var (key, value) in item)
                {
                    if (!ReservedTaskKeys.Contains(key))
                    {
                        data[key] = value?.DeepClone();
                    }
                }
            }

            foreach (var key in project.Config.DataKeys)
            {
                if (!data.ContainsKey(key))
                {
                    return LsErrors.Validation("data", $"\"{key}\" key is expected in task data [task #{i}]");
                }
            }

            var predictions = item["predictions"] as JsonArray ?? [];
            var annotations = item["annotations"] as JsonArray ?? item["completions"] as JsonArray ?? [];
            var problem = Validate(project, predictions, "prediction") ?? Validate(project, annotations, "annotation");
            if (problem is not null)
            {
                return LsErrors.Validation(problem.Value.Field, $"task #{i}, {problem.Value.Message}");
            }

            tasks.Add((data, (JsonArray)predictions.DeepClone(), (JsonArray)annotations.DeepClone()));
        }

        var ids = state.Store.AddTasks(id, tasks, state.Time.GetUtcNow());
        await webhooks.FireAsync(project, "TASKS_CREATED", payload =>
            payload["tasks"] = new JsonArray([.. ids.Select(t => (JsonNode)state.Store.TaskJson(state.Store.FindTask(t)!, full: false))]),
            request.HttpContext.RequestAborted);

        if (state.Faults.TryTakeImportFailure())
        {
            // The tasks are committed, but the client never learns it: the case an idempotent importer must survive.
            return LsErrors.Result(500, "Server error (emulated after the import was committed)", excInfo: "Traceback (most recent call last): emulated");
        }

        if (state.Settings.AsyncImports)
        {
            var record = state.Store.AddImport(id, ids, state.Time.GetUtcNow(), TimeSpan.FromSeconds(state.Settings.AsyncImportCompletionSeconds));
            return Results.Json(new JsonObject { ["import"] = record.Id }, statusCode: 201);
        }

        var response = new JsonObject
        {
            ["task_count"] = ids.Count,
            ["annotation_count"] = tasks.Sum(t => t.Item3.Count),
            ["prediction_count"] = tasks.Sum(t => t.Item2.Count),
            ["duration"] = clock.Elapsed.TotalSeconds,
            ["file_upload_ids"] = new JsonArray(),
            ["could_be_tasks_list"] = false,
            ["found_formats"] = new JsonArray(),
            ["data_columns"] = new JsonArray(),
        };
        if (RequestJson.QueryBool(request, "return_task_ids", false))
        {
            response["task_ids"] = new JsonArray([.. ids.Select(t => (JsonNode)JsonValue.Create(t))]);
        }

        return Results.Json(response, statusCode: 201);
    }

    private static IResult ImportStatus(int id, int importId, EmulatorState state)
    {
        var record = state.Store.FindImport(id, importId);
        if (record is null)
        {
            return LsErrors.NotFound();
        }

        var done = state.Time.GetUtcNow() >= record.CompletesAt;
        return Results.Json(new JsonObject
        {
            ["id"] = record.Id,
            ["project"] = record.ProjectId,
            ["status"] = done ? "completed" : "in_progress",
            ["error"] = null,
            ["task_count"] = done ? record.TaskIds.Count : 0,
            ["task_ids"] = done ? new JsonArray([.. record.TaskIds.Select(t => (JsonNode)JsonValue.Create(t))]) : new JsonArray(),
            ["created_at"] = Auth.TokenService.Iso(record.CreatedAt),
            ["finished_at"] = done ? Auth.TokenService.Iso(record.CompletesAt) : null,
        });
    }

    private static async Task<IResult> ImportPredictionsAsync(int id, HttpRequest request, EmulatorState state)
    {
        var project = state.Store.FindProject(id);
        if (project is null)
        {
            return LsErrors.NotFound("No Project matches the given query.");
        }

        var (body, error) = await RequestJson.ReadAsync(request);
        if (error is not null)
        {
            return error;
        }

        if (body is not JsonArray items)
        {
            return LsErrors.Validation("non_field_errors", "Expected a list of predictions.");
        }

        var predictions = new List<JsonObject>();
        foreach (var node in items)
        {
            if (node is not JsonObject p || p["task"] is not JsonValue t || !t.TryGetValue<int>(out _))
            {
                return LsErrors.Validation("task", "This field is required.");
            }

            predictions.Add(p);
        }

        if (!state.Store.AllTasksInProject(id, predictions.Select(p => p["task"]!.GetValue<int>())))
        {
            return LsErrors.Result(400, $"Some tasks are not in project {id}.");
        }

        var problem = Validate(project, new JsonArray([.. predictions.Select(p => (JsonNode)p.DeepClone())]), "prediction");
        if (problem is not null)
        {
            return LsErrors.Validation(problem.Value.Field, problem.Value.Message);
        }

        var created = state.Store.AddPredictions(predictions, state.Time.GetUtcNow());
        return Results.Json(new JsonObject { ["created"] = created }, statusCode: 201);
    }

    private static (string Field, string Message)? Validate(ProjectRecord project, JsonArray entries, string kind)
    {
        for (var j = 0; j < entries.Count; j++)
        {
            if (entries[j] is not JsonObject entry)
            {
                return (kind + "s", $"{kind} #{j} must be a dict");
            }

            var problem = project.Config.ValidateResult(entry["result"]);
            if (problem is not null)
            {
                return (kind + "s", $"{kind} #{j}: {problem}");
            }
        }

        return null;
    }
}
