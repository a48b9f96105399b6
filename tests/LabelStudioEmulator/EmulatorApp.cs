using LabelStudioEmulator.Api;
using LabelStudioEmulator.Faults;
using LabelStudioEmulator.Webhooks;

namespace LabelStudioEmulator;

/// <summary>Builds the emulator's web application, for its own process and for in-process tests alike.</summary>
public static class EmulatorApp
{
    public const string Banner = "LABEL STUDIO EMULATOR (a test double speaking a subset of Label Studio's REST API; NOT Label Studio)";

    public static WebApplication Build(string[] args, EmulatorSettings? settings = null, bool quiet = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        settings ??= builder.Configuration.GetSection("Emulator").Get<EmulatorSettings>() ?? new EmulatorSettings();
        builder.Logging.ClearProviders();
        if (!quiet)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddFilter("LabelStudioEmulator", LogLevel.Information);
            builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        }

        var state = new EmulatorState(settings, TimeProvider.System);
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(state.Store);
        builder.Services.AddSingleton(state.Faults);
        builder.Services.AddSingleton(state.Time);
        builder.Services.AddSingleton<EmulatorActions>();
        builder.Services.AddHttpClient<WebhookSender>(http => http.Timeout = TimeSpan.FromSeconds(settings.WebhookTimeoutSeconds));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(WebhookSender)));
        builder.Services.AddSingleton<WebhookSender>();

        var app = builder.Build();
        app.Use(InjectFaultsAndAuthenticate);
        SystemEndpoints.Map(app);
        ProjectEndpoints.Map(app);
        ImportEndpoints.Map(app);
        TaskEndpoints.Map(app);
        WebhookEndpoints.Map(app);
        ControlEndpoints.Map(app);
        return app;
    }

    /// <summary>Records every request, applies the active faults, then enforces Label Studio's auth rules.</summary>
    private static async Task InjectFaultsAndAuthenticate(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/__emulator", StringComparison.Ordinal) || (path.StartsWithSegments("/health", StringComparison.Ordinal) && path.Value!.Length > "/health".Length))
        {
            // Test controls and the orchestrator's probes (/health/live, /health/ready) are neither logged nor faulted.
            await next(context);
            return;
        }

        var state = context.RequestServices.GetRequiredService<EmulatorState>();
        var faults = state.Faults;
        var record = state.Requests.Begin(state.Time.GetUtcNow(), context.Request);
        try
        {
            if (faults.Down)
            {
                context.Abort();
                return;
            }

            if (faults.BlackHole)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted);
            }

            if (faults.Latency > TimeSpan.Zero)
            {
                await Task.Delay(faults.Latency, context.RequestAborted);
            }

            if (faults.TryTakeServerError(out var status))
            {
                await LsErrors.WriteAsync(context, status, "Server error (emulated fault)", "Traceback (most recent call last): emulated fault");
                return;
            }

            if (faults.TryTakeThrottle(out var retryAfter))
            {
                context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await LsErrors.WriteAsync(context, 429, $"Request was throttled. Expected available in {retryAfter} seconds.");
                return;
            }

            if (RequiresAuthentication(path))
            {
                var outcome = state.Tokens.Authenticate(context.Request.Headers.Authorization.ToString(), faults.CredentialsRevoked);
                if (!outcome.Authenticated)
                {
                    context.Response.Headers.WWWAuthenticate = "Token";
                    await LsErrors.WriteAsync(context, 401, outcome.Detail!);
                    return;
                }
            }

            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client gave up (its timeout); nothing to answer.
        }
        finally
        {
            RequestLog.End(record, context.RequestAborted.IsCancellationRequested || faults.Down ? 0 : context.Response.StatusCode, state.Time.GetUtcNow());
            state.Requests.Leave();
        }
    }

    private static bool RequiresAuthentication(PathString path) =>
        path.StartsWithSegments("/api", StringComparison.Ordinal) &&
        !path.StartsWithSegments("/api/version", StringComparison.Ordinal) &&
        !path.StartsWithSegments("/api/token/refresh", StringComparison.Ordinal);
}
