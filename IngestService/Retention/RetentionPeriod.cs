using System.Globalization;
using System.Xml;

namespace IngestService.Retention;

/// <summary>
/// The upload field <c>retainFor</c>: an ISO-8601 duration (<c>P7D</c>, <c>PT12H</c>, <c>P1DT30M</c>) or whole seconds
/// (<c>3600</c>). Zero is allowed (removed as soon as it is finished); negative or malformed values are not.
/// </summary>
internal static class RetentionPeriod
{
    public const string Field = "retainFor";

    public static bool TryParse(string? text, out TimeSpan period)
    {
        period = TimeSpan.Zero;
        var value = text?.Trim() ?? "";
        if (value.Length == 0)
        {
            return false;
        }

        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            if (seconds > (long)TimeSpan.MaxValue.TotalSeconds)
            {
                return false;
            }

            period = TimeSpan.FromSeconds(seconds);
            return true;
        }

        if (value[0] is not ('P' or 'p'))
        {
            return false;
        }

        try
        {
            // XmlConvert reads xs:duration, which is ISO-8601's duration (years and months counted as 365 and 30 days).
            period = XmlConvert.ToTimeSpan(value.ToUpperInvariant());
            return period >= TimeSpan.Zero;
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            return false;
        }
    }
}
