using System.Text.RegularExpressions;
using IngestService.Sources;
using Microsoft.Extensions.Options;

namespace IngestService.Webhooks;

/// <summary>
/// What the annotations of <see cref="WebhookOptions"/> cannot say, checked at start-up: each default subscription's
/// name, URL (the form URL sources must have; its host is vetted at each delivery, after DNS) and secret, and that the
/// retry schedule is in order.
/// </summary>
internal sealed partial class WebhookOptionsValidation : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.RoundDelaySeconds > options.MaxRoundDelaySeconds)
        {
            failures.Add("Webhooks:RoundDelaySeconds must not be longer than Webhooks:MaxRoundDelaySeconds.");
        }

        foreach (var (key, subscription) in options.Subscriptions)
        {
            var at = $"Webhooks:Subscriptions:{key}";
            if (!SubscriptionName().IsMatch(key) || key == WebhookSubscriptions.Callback)
            {
                failures.Add($"{at}: the name must be 1 to 64 letters, digits, '-' or '_', and not '{WebhookSubscriptions.Callback}' (the upload's callbackUrl).");
            }

            if (!Uri.TryCreate(subscription.Url?.Trim(), UriKind.Absolute, out var url))
            {
                failures.Add($"{at}:Url must be an absolute http or https URL.");
            }
            else if (SourceUrls.WhyNotFetchable(url) is { } why)
            {
                failures.Add($"{at}:Url cannot be used: {why}.");
            }

            if (!WebhookSigner.IsValidSecret(subscription.Secret))
            {
                failures.Add($"{at}:Secret must be 'whsec_' followed by the base64 of 24 to 64 random bytes (e.g. 'whsec_' + `openssl rand -base64 32`).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex SubscriptionName();
}
