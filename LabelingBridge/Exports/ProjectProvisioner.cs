using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using LabelingBridge.Configuration;
using LabelingBridge.LabelStudio;
using LabelingBridge.Outbox;
using Microsoft.Extensions.Options;

namespace LabelingBridge.Exports;

/// <summary>
/// The Label Studio project and its webhook, created once and reused: the project id is remembered in the outbox
/// database per Label Studio instance; creation first looks for a project of the same title, so a retried or
/// repeated creation never makes a second one. The webhook carries the shared secret header.
/// </summary>
public sealed partial class ProjectProvisioner(
    LabelStudioApi api,
    LabelStudioOperations operations,
    ExportOutbox outbox,
    IOptions<LabelStudioOptions> labelStudio,
    IOptions<BridgeOptions> bridge,
    ILogger<ProjectProvisioner> logger)
{
    public static readonly string[] WebhookActions = ["ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED"];

    private readonly SemaphoreSlim _lock = new(1, 1);
    // One project of the one configured instance, kept until Label Studio says it is gone (Forget).
    private int? _projectId;
    private bool _webhookReady;

    private string Instance => labelStudio.Value.Url!.ToString().TrimEnd('/');

    private string ProjectKey => "label_studio.project:" + Instance;

    /// <summary>The project id if one was provisioned already (no request to Label Studio).</summary>
    public async Task<int?> KnownProjectIdAsync(CancellationToken cancellationToken)
    {
        if (_projectId is { } known)
        {
            return known;
        }

        var stored = await outbox.GetSettingAsync(ProjectKey, cancellationToken);
        return int.TryParse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    public async Task<int> EnsureProjectAsync(CancellationToken cancellationToken)
    {
        if (_projectId is { } ready && _webhookReady)
        {
            return ready;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_projectId is null)
            {
                int? id = null;
                if (await KnownProjectIdAsync(cancellationToken) is { } stored)
                {
                    var project = await operations.RunAsync("get_project", ct => api.GetProjectAsync(stored, ct), cancellationToken);
                    if (project is null)
                    {
                        LogProjectVanished(logger, stored);
                    }
                    else
                    {
                        id = project.Id;
                    }
                }

                id ??= await operations.RunAsync("ensure_project", CreateOrFindAsync, cancellationToken);
                await outbox.SetSettingAsync(ProjectKey, id.Value.ToString(CultureInfo.InvariantCulture), cancellationToken);
                _projectId = id;
            }

            if (!_webhookReady)
            {
                await EnsureWebhookAsync(_projectId.Value, cancellationToken);
            }

            return _projectId.Value;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Forgets the project (Label Studio no longer has it); the next delivery provisions again.</summary>
    public void Forget()
    {
        _projectId = null;
        _webhookReady = false;
    }

    private async Task<int> CreateOrFindAsync(CancellationToken cancellationToken)
    {
        var title = labelStudio.Value.ProjectTitle;
        var existing = (await api.FindProjectsAsync(title, cancellationToken)).FirstOrDefault(p => p.Title == title);
        if (existing is not null)
        {
            LogProjectReused(logger, existing.Id, title);
            return existing.Id;
        }

        var created = await api.CreateProjectAsync(title,
            "Layout regions of documents processed by the suite; one task per page, pre-filled with the pipeline's regions.",
            LayoutLabels.LabelConfigXml(), cancellationToken);
        LogProjectCreated(logger, created.Id, title);
        return created.Id;
    }

    private async Task EnsureWebhookAsync(int projectId, CancellationToken cancellationToken)
    {
        var options = bridge.Value;
        var url = options.ResolvedWebhookUrl.ToString();
        var key = $"label_studio.webhook:{Instance}:{projectId}";
        // Remember what was configured, not the secret itself.
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url + "\n" + options.WebhookSecretHeader + "\n" + options.WebhookSecret)));
        if (await outbox.GetSettingAsync(key, cancellationToken) == fingerprint)
        {
            _webhookReady = true;
            return;
        }

        try
        {
            await operations.RunAsync("ensure_webhook", async ct =>
            {
                var mine = (await api.ListWebhooksAsync(projectId, ct)).FirstOrDefault(h => h.Url == url);
                var body = new JsonObject
                {
                    ["url"] = url,
                    ["project"] = projectId,
                    ["send_payload"] = true,
                    ["send_for_all_actions"] = false,
                    ["is_active"] = true,
                    ["actions"] = new JsonArray([.. WebhookActions.Select(a => (JsonNode)JsonValue.Create(a))]),
                    ["headers"] = new JsonObject { [options.WebhookSecretHeader] = options.WebhookSecret },
                };
                await api.SaveWebhookAsync(mine?.Id, body, ct);
            }, cancellationToken);
            await outbox.SetSettingAsync(key, fingerprint, cancellationToken);
            _webhookReady = true;
            LogWebhookReady(logger, projectId, url);
        }
        catch (LabelStudioException ex) when (ex.Error.Code is not (LabelStudioErrorCodes.CredentialsRejected or LabelStudioErrorCodes.BreakerOpen))
        {
            // Not fatal for exports: reconciliation brings annotations back meanwhile; the next delivery tries again.
            LogWebhookFailed(logger, projectId, ex.Error.Code, ex.Error.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Label Studio project {ProjectId} created ({Title})")]
    private static partial void LogProjectCreated(ILogger logger, int projectId, string title);

    [LoggerMessage(Level = LogLevel.Information, Message = "Label Studio project {ProjectId} ({Title}) found and reused")]
    private static partial void LogProjectReused(ILogger logger, int projectId, string title);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Label Studio project {ProjectId} remembered by the outbox no longer exists; provisioning again")]
    private static partial void LogProjectVanished(ILogger logger, int projectId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Label Studio webhook of project {ProjectId} posts to {Url}")]
    private static partial void LogWebhookReady(ILogger logger, int projectId, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not set up the Label Studio webhook of project {ProjectId} ({ErrorCode}: {Reason}); annotations come back through reconciliation until it works")]
    private static partial void LogWebhookFailed(ILogger logger, int projectId, string errorCode, string reason);
}
