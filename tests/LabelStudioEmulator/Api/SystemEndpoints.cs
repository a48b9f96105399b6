using System.Text.Json.Nodes;
using LabelStudioEmulator.Auth;

namespace LabelStudioEmulator.Api;

/// <summary>GET /health, GET /api/version/, and the token endpoints of Personal Access Tokens.</summary>
internal static class SystemEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/health", () => Results.Json(new JsonObject { ["status"] = "UP" }));

        // Not Label Studio routes: the probes the suite's AppHost sends to every process it supervises.
        app.MapGet("/health/live", () => Results.Json(new JsonObject { ["status"] = "Healthy", ["emulator"] = true }));
        app.MapGet("/health/ready", () => Results.Json(new JsonObject { ["status"] = "Healthy", ["emulator"] = true }));
        app.MapGet("/api/version/", (EmulatorState state) => Results.Json(new JsonObject
        {
            ["release"] = state.Settings.Version,
            ["label-studio-os-package"] = new JsonObject
            {
                ["version"] = state.Settings.Version,
                ["short_version"] = string.Join('.', state.Settings.Version.Split('.').Take(2)),
                ["latest_version_from_pypi"] = state.Settings.Version,
                ["latest_version_upload_time"] = null,
                ["current_version_is_outdated"] = false,
            },
            ["label-studio-os-backend"] = new JsonObject { ["message"] = "LABEL STUDIO EMULATOR (tests only)", ["commit"] = "emulator" },
            ["label-studio-frontend"] = new JsonObject { ["message"] = "emulator" },
            ["dm2"] = new JsonObject { ["message"] = "emulator" },
            ["label-studio-converter"] = new JsonObject { ["version"] = "emulator" },
            ["edition"] = "Community",
            ["lsf"] = new JsonObject { ["message"] = "emulator" },
        }));

        // Routing ignores the trailing slash: this serves /api/token/refresh/ (the SDK) and /api/token/refresh (the docs).
        app.MapPost("/api/token/refresh/", RefreshAsync);
        app.MapPost("/api/token/", (EmulatorState state) =>
        {
            var now = state.Time.GetUtcNow();
            return Results.Json(new JsonObject
            {
                ["token"] = state.Tokens.IssuePersonalAccessToken(),
                ["created_at"] = TokenService.Iso(now),
                ["expires_at"] = TokenService.Iso(now.AddDays(365)),
            }, statusCode: 201);
        });
        app.MapPost("/api/token/blacklist/", async (HttpRequest request, EmulatorState state) =>
        {
            var (body, error) = await RequestJson.ReadAsync(request);
            if (error is not null)
            {
                return error;
            }

            var refresh = body is JsonObject obj ? RequestJson.String(obj, "refresh") : null;
            if (refresh is null || state.Tokens.Refresh(refresh, false, out _) is null)
            {
                return LsErrors.NotFound("Token is invalid or already blacklisted.");
            }

            state.Tokens.Blacklist(refresh);
            return Results.NoContent();
        });
    }

    private static async Task<IResult> RefreshAsync(HttpRequest request, EmulatorState state)
    {
        var (body, error) = await RequestJson.ReadAsync(request);
        if (error is not null)
        {
            return error;
        }

        var refresh = body is JsonObject obj ? RequestJson.String(obj, "refresh") : null;
        if (refresh is null)
        {
            return LsErrors.Validation("refresh", "This field is required.");
        }

        var access = state.Tokens.Refresh(refresh, state.Faults.CredentialsRevoked, out var problem);
        return access is null ? LsErrors.Result(401, problem) : Results.Json(new JsonObject { ["access"] = access });
    }
}
