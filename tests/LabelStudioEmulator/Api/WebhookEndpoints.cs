using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LabelStudioEmulator.Model;

namespace LabelStudioEmulator.Api;

/// <summary>/api/webhooks/: create (validated like Label Studio's WebhookSerializer), list, read, update, delete.</summary>
internal static partial class WebhookEndpoints
{
    private static readonly string[] KnownActions =
    [
        "PROJECT_CREATED", "PROJECT_UPDATED", "PROJECT_DELETED", "TASKS_CREATED", "TASKS_DELETED", "ANNOTATION_CREATED",
        "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED", "LABEL_LINK_CREATED", "LABEL_LINK_UPDATED", "LABEL_LINK_DELETED",
    ];

    public static void Map(WebApplication app)
    {
        app.MapPost("/api/webhooks/", CreateAsync);
        app.MapGet("/api/webhooks/", (HttpRequest request, EmulatorState state) =>
            Results.Json(new JsonArray([.. state.Store.Webhooks(RequestJson.QueryInt(request, "project")).Select(w => (JsonNode)EmulatorStore.WebhookJson(w))])));
        app.MapGet("/api/webhooks/{id:int}/", (int id, EmulatorState state) =>
            state.Store.FindWebhook(id) is { } w ? Results.Json(EmulatorStore.WebhookJson(w)) : LsErrors.NotFound());
        app.MapMethods("/api/webhooks/{id:int}/", ["PATCH"], UpdateAsync);
        app.MapDelete("/api/webhooks/{id:int}/", (int id, EmulatorState state) =>
            state.Store.RemoveWebhook(id) ? Results.NoContent() : LsErrors.NotFound());
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

        var url = RequestJson.String(obj, "url");
        if (string.IsNullOrEmpty(url))
        {
            return LsErrors.Validation("url", "This field is required.");
        }

        int? projectId = obj["project"] is JsonValue pv && pv.TryGetValue<int>(out var p) ? p : null;
        if (projectId is not null && state.Store.FindProject(projectId.Value) is null)
        {
            return LsErrors.Validation("project", $"Invalid pk \"{projectId}\" - object does not exist.");
        }

        var problem = Apply(obj, out var fields);
        if (problem is not null)
        {
            return problem;
        }

        var now = state.Time.GetUtcNow();
        var created = state.Store.AddWebhook(id => new WebhookRecord
        {
            Id = id,
            ProjectId = projectId,
            Url = fields.Url ?? url,
            SendPayload = fields.SendPayload ?? true,
            SendForAllActions = fields.SendForAllActions ?? true,
            Headers = fields.Headers ?? new Dictionary<string, string>(StringComparer.Ordinal),
            IsActive = fields.IsActive ?? true,
            Actions = fields.Actions ?? [],
            CreatedAt = now,
            UpdatedAt = now,
        });
        return Results.Json(EmulatorStore.WebhookJson(created), statusCode: 201);
    }

    private static async Task<IResult> UpdateAsync(int id, HttpRequest request, EmulatorState state)
    {
        var hook = state.Store.FindWebhook(id);
        if (hook is null)
        {
            return LsErrors.NotFound();
        }

        var (body, error) = await RequestJson.ReadAsync(request);
        if (error is not null)
        {
            return error;
        }

        if (body is not JsonObject obj)
        {
            return LsErrors.Validation("non_field_errors", "Invalid data. Expected a dictionary.");
        }

        var problem = Apply(obj, out var fields);
        if (problem is not null)
        {
            return problem;
        }

        lock (state.Store.Gate)
        {
            hook.Url = fields.Url ?? hook.Url;
            hook.SendPayload = fields.SendPayload ?? hook.SendPayload;
            hook.SendForAllActions = fields.SendForAllActions ?? hook.SendForAllActions;
            hook.Headers = fields.Headers ?? hook.Headers;
            hook.IsActive = fields.IsActive ?? hook.IsActive;
            hook.Actions = fields.Actions ?? hook.Actions;
            hook.UpdatedAt = state.Time.GetUtcNow();
        }

        return Results.Json(EmulatorStore.WebhookJson(hook));
    }

    private sealed record Fields(string? Url, bool? SendPayload, bool? SendForAllActions, Dictionary<string, string>? Headers, bool? IsActive, List<string>? Actions);

    private static IResult? Apply(JsonObject obj, out Fields fields)
    {
        fields = new Fields(null, null, null, null, null, null);
        var url = RequestJson.String(obj, "url");
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")))
        {
            return LsErrors.Validation("url", "Enter a valid URL.");
        }

        Dictionary<string, string>? headers = null;
        if (obj["headers"] is JsonObject headerObj)
        {
            if (headerObj.Count > 10)
            {
                return LsErrors.Validation("headers", "Too many headers: at most 10.");
            }

            headers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in headerObj)
            {
                if (!HeaderKey().IsMatch(key) || value is not JsonValue hv || !hv.TryGetValue<string>(out var text))
                {
                    return LsErrors.Validation("headers", $"Invalid header \"{key}\": keys must match ^[a-zA-Z0-9-_]+$ and values be strings.");
                }

                headers[key] = text;
            }
        }

        List<string>? actions = null;
        if (obj["actions"] is JsonArray actionArray)
        {
            actions = [];
            foreach (var action in actionArray)
            {
                var name = action?.ToString() ?? "";
                if (!KnownActions.Contains(name))
                {
                    return LsErrors.Validation("actions", $"\"{name}\" is not a valid choice.");
                }

                actions.Add(name);
            }
        }

        fields = new Fields(url, Bool(obj, "send_payload"), Bool(obj, "send_for_all_actions"), headers, Bool(obj, "is_active"), actions);
        return null;
    }

    private static bool? Bool(JsonObject obj, string key) => obj[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    [GeneratedRegex("^[a-zA-Z0-9-_]+$")]
    private static partial Regex HeaderKey();
}
