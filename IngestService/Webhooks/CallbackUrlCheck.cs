using IngestService.Sources;

namespace IngestService.Webhooks;

/// <summary>
/// The upload field <c>callbackUrl</c>, checked at upload with the URL sources' rules (Req FMT-3, SEC): the form
/// (<see cref="SourceUrls.WhyNotFetchable"/>), then the host resolved and every address it resolves to public or allowed
/// by Sources:AllowedHosts (<see cref="SourceAddressGuard"/>). Each delivery checks again, after its own DNS lookup.
/// </summary>
internal sealed class CallbackUrlCheck(SourceAddressGuard guard)
{
    public const string Field = "callbackUrl";

    /// <summary>Null when <paramref name="value"/> may be called back; else the 400 invalid_callback_url problem.</summary>
    public async Task<IResult?> CheckAsync(string value, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url))
        {
            return WebhookProblems.InvalidCallbackUrl("it is not an absolute URL");
        }

        if (SourceUrls.WhyNotFetchable(url) is { } why)
        {
            return WebhookProblems.InvalidCallbackUrl(why);
        }

        try
        {
            await guard.VetAsync(url, cancellationToken);
            return null;
        }
        catch (UrlRefusedException ex)
        {
            return WebhookProblems.InvalidCallbackUrl(ex.Refusal.Reason, ex.Refusal.Retryable);
        }
    }
}
