using System.Text.Json.Nodes;

namespace LabelStudioEmulator.Api;

/// <summary>
/// Test controls under /__emulator/ (not part of Label Studio): faults, the request log, issuing a PAT, and creating
/// an annotation as a person would in the UI. Used when the emulator runs as its own process.
/// </summary>
internal static class ControlEndpoints
{
    public static void Map(WebApplication app)
    {
        var control = app.MapGroup("/__emulator");
        control.MapGet("/", (EmulatorState state) => Results.Json(new JsonObject
        {
            ["emulator"] = "LABEL STUDIO EMULATOR - not Label Studio",
            ["projects"] = state.Store.Projects(null).Count,
            ["requests"] = state.Requests.Count,
            ["faults"] = FaultsJson(state),
        }));
        control.MapPost("/faults", async (HttpRequest request, EmulatorState state) =>
        {
            var (body, error) = await RequestJson.ReadAsync(request);
            if (error is not null)
            {
                return error;
            }

            if (body is not JsonObject f)
            {
                return Results.BadRequest();
            }

            var faults = state.Faults;
            if (Bool(f, "down") is { } down)
            {
                faults.Down = down;
            }

            if (Bool(f, "blackHole") is { } blackHole)
            {
                faults.BlackHole = blackHole;
            }

            if (Bool(f, "credentialsRevoked") is { } revoked)
            {
                faults.CredentialsRevoked = revoked;
            }

            if (Bool(f, "dropWebhooks") is { } drop)
            {
                faults.DropWebhooks = drop;
            }

            if (Int(f, "latencyMs") is { } latency)
            {
                faults.Latency = TimeSpan.FromMilliseconds(latency);
            }

            if (f["serverErrors"] is JsonObject errors)
            {
                faults.ServerErrors(Int(errors, "count") ?? 1, Int(errors, "status") ?? 500);
            }

            if (f["throttle"] is JsonObject throttle)
            {
                faults.Throttle(Int(throttle, "count") ?? 1, Int(throttle, "retryAfterSeconds") ?? 1);
            }

            if (Int(f, "failImportsAfterCommit") is { } importFailures)
            {
                faults.FailImportsAfterCommit(importFailures);
            }

            return Results.Json(FaultsJson(state));
        });
        control.MapPost("/faults/reset", (EmulatorState state) =>
        {
            state.Faults.Reset();
            return Results.Json(FaultsJson(state));
        });
        control.MapGet("/requests", (EmulatorState state) => Results.Json(new JsonArray([.. state.Requests.Snapshot().Select(r => (JsonNode)new JsonObject
        {
            ["at"] = Auth.TokenService.Iso(r.At),
            ["method"] = r.Method,
            ["path"] = r.Path + r.Query,
            ["status"] = r.Status,
        })])));
        control.MapPost("/pat", (EmulatorState state) => Results.Json(new JsonObject { ["token"] = state.Tokens.IssuePersonalAccessToken() }));
        control.MapPost("/tasks/{id:int}/annotations", async (int id, HttpRequest request, EmulatorActions actions) =>
        {
            var (body, error) = await RequestJson.ReadAsync(request);
            if (error is not null)
            {
                return error;
            }

            var result = body?["result"] as JsonArray ?? [];
            try
            {
                var created = await actions.CreateAnnotationAsync(id, result, Bool(body as JsonObject ?? [], "was_cancelled") ?? false, cancellationToken: request.HttpContext.RequestAborted);
                if (created is null)
                {
                    return LsErrors.NotFound();
                }

                return Results.Json(new JsonObject
                {
                    ["annotation"] = created.Value.Annotation,
                    ["webhooks"] = new JsonArray([.. created.Value.Webhooks.Select(w => (JsonNode)new JsonObject { ["url"] = w.Url, ["outcome"] = w.Outcome, ["status"] = w.Status })]),
                }, statusCode: 201);
            }
            catch (ArgumentException ex)
            {
                return LsErrors.Validation("result", ex.Message);
            }
        });
    }

    private static JsonObject FaultsJson(EmulatorState state) => new()
    {
        ["down"] = state.Faults.Down,
        ["blackHole"] = state.Faults.BlackHole,
        ["credentialsRevoked"] = state.Faults.CredentialsRevoked,
        ["dropWebhooks"] = state.Faults.DropWebhooks,
        ["latencyMs"] = state.Faults.Latency.TotalMilliseconds,
    };

    private static bool? Bool(JsonObject obj, string key) => obj[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    private static int? Int(JsonObject obj, string key) => obj[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
}
