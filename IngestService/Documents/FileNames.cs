using System.Text;

namespace IngestService.Documents;

/// <summary>
/// The client's file name, cleaned for display only (Req IN-2). It is stored and shown, never used to build a path:
/// blobs are named by document id.
/// </summary>
internal static class FileNames
{
    public const string Fallback = "upload.pdf";
    public const int MaxLength = 255;

    public static string ForDisplay(string? clientName)
    {
        if (string.IsNullOrWhiteSpace(clientName))
        {
            return Fallback;
        }

        // Keep only the last path segment, whatever separator the client's system uses.
        var name = clientName[(clientName.LastIndexOfAny(['/', '\\']) + 1)..];
        var clean = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (!char.IsControl(c) && c is not ('\u2028' or '\u2029' or '\u202E' or '\u202D'))
            {
                clean.Append(c);
            }
        }

        var result = clean.ToString().Trim();
        if (result.Length > MaxLength)
        {
            var cut = char.IsHighSurrogate(result[MaxLength - 1]) ? MaxLength - 1 : MaxLength;
            result = result[..cut];
        }

        return result is "" or "." or ".." ? Fallback : result;
    }
}
