using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;

namespace LabelingBridge.Configuration;

/// <summary>Start-up validation: a wrong setting stops the bridge with a message naming the setting (SU-1).</summary>
internal sealed class LabelStudioOptionsValidator : IValidateOptions<LabelStudioOptions>
{
    public ValidateOptionsResult Validate(string? name, LabelStudioOptions options)
    {
        var failures = new List<string>();
        if (options.Enabled)
        {
            if (options.Url is null || !options.Url.IsAbsoluteUri || options.Url.Scheme is not ("http" or "https"))
            {
                failures.Add("LabelStudio:Url (env LabelStudio__Url) must be the absolute http(s) URL of Label Studio, or set LabelStudio:Enabled=false.");
            }

            if (string.IsNullOrWhiteSpace(options.ApiKey))
            {
                failures.Add("LabelStudio:ApiKey (env LabelStudio__ApiKey) must be a Label Studio legacy API token or Personal Access Token, or set LabelStudio:Enabled=false.");
            }

            if (string.IsNullOrWhiteSpace(options.ProjectTitle) || options.ProjectTitle.Length > 50)
            {
                failures.Add("LabelStudio:ProjectTitle must be 1 to 50 characters.");
            }
        }

        var t = options.Timeouts;
        if (t.ConnectSeconds <= 0 || t.AttemptSeconds <= 0 || t.TotalSeconds <= 0)
        {
            failures.Add("LabelStudio:Timeouts:ConnectSeconds, AttemptSeconds and TotalSeconds must be positive.");
        }
        else if (t.AttemptSeconds > t.TotalSeconds)
        {
            failures.Add("LabelStudio:Timeouts:AttemptSeconds must not exceed LabelStudio:Timeouts:TotalSeconds.");
        }

        if (options.Retry.MaxRetries is < 0 or > 20 || options.Retry.BaseDelayMilliseconds <= 0 || options.Retry.MaxDelaySeconds <= 0)
        {
            failures.Add("LabelStudio:Retry: MaxRetries must be 0 to 20, BaseDelayMilliseconds and MaxDelaySeconds positive.");
        }

        var b = options.Breaker;
        if (b.FailureRatio is <= 0 or > 1 || b.MinimumThroughput < 2 || b.SamplingDurationSeconds < 0.5 || b.BreakDurationSeconds < 0.5)
        {
            failures.Add("LabelStudio:Breaker: FailureRatio must be in (0, 1], MinimumThroughput at least 2, SamplingDurationSeconds and BreakDurationSeconds at least 0.5.");
        }

        if (options.MaxConcurrentRequests < 1 || options.MaxQueuedRequests < 0)
        {
            failures.Add("LabelStudio:MaxConcurrentRequests must be at least 1 and LabelStudio:MaxQueuedRequests not negative.");
        }

        if (options.CredentialProbeIntervalSeconds < 0.1)
        {
            failures.Add("LabelStudio:CredentialProbeIntervalSeconds must be at least 0.1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class BridgeOptionsValidator(IOptions<LabelStudioOptions> labelStudio) : IValidateOptions<BridgeOptions>
{
    public ValidateOptionsResult Validate(string? name, BridgeOptions options)
    {
        var failures = new List<string>();
        var enabled = labelStudio.Value.Enabled;
        if (enabled && (options.PublicBaseUrl is null || !options.PublicBaseUrl.IsAbsoluteUri))
        {
            failures.Add("Bridge:PublicBaseUrl (env Bridge__PublicBaseUrl) must be the absolute public URL of the suite; Label Studio loads page images from it.");
        }

        if (options.WebhookUrl is { IsAbsoluteUri: false })
        {
            failures.Add("Bridge:WebhookUrl must be absolute when set.");
        }

        if (enabled && (string.IsNullOrEmpty(options.WebhookSecret) || options.WebhookSecret.Length < 16))
        {
            failures.Add("Bridge:WebhookSecret (env Bridge__WebhookSecret) must be a shared secret of at least 16 characters; Label Studio sends it on every webhook.");
        }

        if (string.IsNullOrWhiteSpace(options.WebhookSecretHeader))
        {
            failures.Add("Bridge:WebhookSecretHeader must name an HTTP header.");
        }

        if (options.ReconcileIntervalSeconds < 0.1 || options.AutoExportPollSeconds < 0.1)
        {
            failures.Add("Bridge:ReconcileIntervalSeconds and Bridge:AutoExportPollSeconds must be at least 0.1.");
        }

        if (options.AutoExportPageSize is < 1 or > 100 || options.AutoExportMaxPages < 1)
        {
            failures.Add("Bridge:AutoExportPageSize must be 1 to 100 (ingest's largest page) and Bridge:AutoExportMaxPages at least 1.");
        }

        if (options.RenderScale is <= 0 or > 20)
        {
            failures.Add("Bridge:RenderScale (pixels per PDF point of the page images) must be in (0, 20].");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboxOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            failures.Add("Outbox:DatabasePath (env Outbox__DatabasePath) must name the outbox SQLite file.");
        }

        failures.AddRange(SqliteDatabaseOptionsValidation.Failures(options, OutboxOptions.Section));

        if (options.PollIntervalSeconds < 0.05 || options.DeliveryConcurrency < 1 || options.MaxAttempts < 1)
        {
            failures.Add("Outbox:PollIntervalSeconds must be at least 0.05, Outbox:DeliveryConcurrency and Outbox:MaxAttempts at least 1.");
        }

        if (options.RetryBaseDelaySeconds <= 0 || options.RetryMaxDelaySeconds < options.RetryBaseDelaySeconds)
        {
            failures.Add("Outbox:RetryBaseDelaySeconds must be positive and not above Outbox:RetryMaxDelaySeconds.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
