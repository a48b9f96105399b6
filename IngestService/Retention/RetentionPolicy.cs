using IngestService.Api;
using Microsoft.Extensions.Options;

namespace IngestService.Retention;

/// <summary>The retention an upload gets: its <c>retainFor</c>, else <c>Retention:Default</c>, never more than <c>Retention:Max</c>.</summary>
internal sealed class RetentionPolicy(IOptions<RetentionOptions> options)
{
    /// <summary>Seconds to keep the document once finished, or the problem with <paramref name="requested"/> (400 naming the field).</summary>
    public (long Seconds, IResult? Problem) Resolve(string? requested)
    {
        var o = options.Value;
        var period = o.Default;
        if (requested is not null && !RetentionPeriod.TryParse(requested, out period))
        {
            return (0, IngestProblems.InvalidOption(RetentionPeriod.Field,
                $"is not a retention period: '{Clip(requested)}'. Write an ISO-8601 duration such as P7D or PT12H, or whole seconds such as 3600."));
        }

        // Capped, not refused: a client asking for longer than the operator allows still gets its document kept as long as allowed.
        return ((long)Math.Ceiling(Math.Min(period.TotalSeconds, o.Max.TotalSeconds)), null);
    }

    private static string Clip(string value) => value.Length <= 80 ? value : value[..80] + "...";
}
