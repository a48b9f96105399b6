namespace LabelingBridge.LabelStudio;

/// <summary>
/// Remembers a Retry-After that Label Studio sent (429, or 503 with the header) and refuses, without sending, every
/// request to it before that moment: retries, probes and other exports alike (RTY-3).
/// </summary>
public sealed class RetryAfterGate(TimeProvider time)
{
    private long _notBeforeTicks;

    public DateTimeOffset? NotBefore
    {
        get
        {
            var ticks = Interlocked.Read(ref _notBeforeTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>How long callers must still wait, or null.</summary>
    public TimeSpan? Remaining()
    {
        var until = NotBefore;
        var now = time.GetUtcNow();
        return until is { } u && u > now ? u - now : null;
    }

    public void WaitUntil(DateTimeOffset until)
    {
        var ticks = until.UtcTicks;
        long current;
        while (ticks > (current = Interlocked.Read(ref _notBeforeTicks)) &&
               Interlocked.CompareExchange(ref _notBeforeTicks, ticks, current) != current)
        {
        }
    }
}

/// <summary>The outermost handler of the Label Studio client: applies <see cref="RetryAfterGate"/>.</summary>
internal sealed class RetryAfterGateHandler(RetryAfterGate gate, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (gate.Remaining() is { } wait)
        {
            throw new LabelStudioException(new LabelStudioError(LabelStudioErrorCodes.Throttled, true,
                $"Label Studio asked to wait (Retry-After); {wait.TotalSeconds:0.#} s left, nothing is sent before that.", RetryAfter: wait, NotSent: true));
        }

        var response = await base.SendAsync(request, cancellationToken);
        if ((int)response.StatusCode is 429 or 503 && LabelStudioError.RetryAfterOf(response.Headers, time.GetUtcNow()) is { } after)
        {
            gate.WaitUntil(time.GetUtcNow() + after);
        }

        return response;
    }
}

/// <summary>Sets the Label Studio credentials on every attempt; with a PAT, refreshes the access token once on a 401.</summary>
internal sealed class LabelStudioAuthHandler(AccessTokenProvider tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var header = await tokens.GetAuthorizationAsync(forceRefresh: false, cancellationToken);
        request.Headers.Authorization = header;
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != System.Net.HttpStatusCode.Unauthorized || !tokens.UsesRefreshFlow)
        {
            return response;
        }

        // The access token may have expired early or been revoked: one refresh, one resend, then the 401 stands.
        response.Dispose();
        request.Headers.Authorization = await tokens.GetAuthorizationAsync(forceRefresh: true, cancellationToken);
        return await base.SendAsync(request, cancellationToken);
    }
}
