using Suite.Contracts;

namespace IngestService.Documents;

/// <summary>
/// The upload's query parameter <c>priority</c> (Req LS-2): <c>interactive</c> (the default when absent) or
/// <c>batch</c>, exactly as written; anything else, an empty value or the parameter given twice is refused.
/// </summary>
internal static class PriorityParameter
{
    public const string Name = "priority";

    /// <summary>The priority asked for, or false when the parameter is present but not one known value.</summary>
    public static bool TryRead(IQueryCollection query, out string priority)
    {
        ArgumentNullException.ThrowIfNull(query);
        priority = JobPriority.Interactive;
        if (!query.TryGetValue(Name, out var values))
        {
            return true;
        }

        if (values.Count != 1 || !JobPriority.IsKnown(values[0]))
        {
            return false;
        }

        priority = values[0]!;
        return true;
    }

    /// <summary>What the client sent (several values joined with commas), for the problem's message.</summary>
    public static string Sent(IQueryCollection query) => query.TryGetValue(Name, out var values) ? values.ToString() : "";
}
