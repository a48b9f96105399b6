using System.Net.Http.Json;
using System.Text.Json.Nodes;
using LabelStudioEmulator.Faults;
using LabelStudioEmulator.Model;

namespace LabelStudioEmulator.Webhooks;

/// <summary>What happened to one webhook the emulator had to send.</summary>
public sealed record WebhookAttempt(DateTimeOffset At, int WebhookId, string Action, string Url, string Outcome, int? Status);

/// <summary>
/// Sends webhooks the way Label Studio does (webhooks/utils.py run_webhook): one POST with the custom headers and
/// a timeout; errors are logged and swallowed, nothing is retried, nothing is signed. At most once.
/// </summary>
public sealed partial class WebhookSender(HttpClient http, EmulatorStore store, FaultControls faults, TimeProvider time, ILogger<WebhookSender> logger)
{
    private readonly List<WebhookAttempt> _attempts = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<WebhookAttempt> Attempts
    {
        get
        {
            lock (_gate)
            {
                return [.. _attempts];
            }
        }
    }

    /// <summary>Fires <paramref name="action"/> to every active webhook of the project (and the organization's).</summary>
    public async Task<IReadOnlyList<WebhookAttempt>> FireAsync(ProjectRecord project, string action, Action<JsonObject> addPayload, CancellationToken cancellationToken)
    {
        var results = new List<WebhookAttempt>();
        foreach (var hook in store.Webhooks(null).Where(w => w.IsActive && (w.ProjectId is null || w.ProjectId == project.Id)))
        {
            if (!hook.SendForAllActions && !hook.Actions.Contains(action, StringComparer.Ordinal))
            {
                continue;
            }

            WebhookAttempt attempt;
            if (faults.DropWebhooks)
            {
                attempt = new WebhookAttempt(time.GetUtcNow(), hook.Id, action, hook.Url, "dropped", null);
            }
            else
            {
                var body = new JsonObject { ["action"] = action };
                if (hook.SendPayload)
                {
                    body["project"] = store.ProjectJson(project);
                    addPayload(body);
                }

                attempt = await SendAsync(hook, action, body, cancellationToken);
            }

            lock (_gate)
            {
                _attempts.Add(attempt);
            }

            results.Add(attempt);
        }

        return results;
    }

    private async Task<WebhookAttempt> SendAsync(WebhookRecord hook, string action, JsonObject body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = JsonContent.Create(body) };
        foreach (var (name, value) in hook.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            return new WebhookAttempt(time.GetUtcNow(), hook.Id, action, hook.Url, "sent", (int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            LogWebhookFailed(logger, hook.Url, action, ex.Message);
            return new WebhookAttempt(time.GetUtcNow(), hook.Id, action, hook.Url, "error", null);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Url} for {Action} failed and is not retried: {Reason}")]
    private static partial void LogWebhookFailed(ILogger logger, string url, string action, string reason);
}
