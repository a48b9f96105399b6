namespace Suite.PipelineWorker.Readers;

/// <summary>Pictures inlined as <c>data:image/png;base64,…</c> or JPEG (HTML, Markdown): the only image bytes those readers keep.</summary>
internal static class DataUri
{
    public static bool IsImage(string source) =>
        source.StartsWith("data:image/png;base64,", StringComparison.OrdinalIgnoreCase) || source.StartsWith("data:image/jpeg;base64,", StringComparison.OrdinalIgnoreCase);

    /// <summary>Decodes the URI into <paramref name="destination"/>; returns its content type, or null when it is not a PNG or JPEG data URI or does not decode.</summary>
    public static string? Copy(string source, string destination)
    {
        if (!IsImage(source))
        {
            return null;
        }

        var comma = source.IndexOf(',', StringComparison.Ordinal);
        var type = source[5..source.IndexOf(';', StringComparison.Ordinal)].ToLowerInvariant();
        try
        {
            File.WriteAllBytes(destination, Convert.FromBase64String(source[(comma + 1)..]));
            return type;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
