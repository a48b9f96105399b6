using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Suite.Testing;

/// <summary>Reference text of a PDF from poppler's pdftotext, for recall checks.</summary>
public static partial class PdfText
{
    public static async Task<string> ExtractAsync(string pdfPath)
    {
        var psi = new ProcessStartInfo("pdftotext") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-enc");
        psi.ArgumentList.Add("UTF-8");
        psi.ArgumentList.Add(pdfPath);
        psi.ArgumentList.Add("-");
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("pdftotext did not start (apt-get install -y poppler-utils)");
        var text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return text;
    }

    /// <summary>Words of letters/digits, lower-cased, at least 2 characters.</summary>
    public static IReadOnlyList<string> Words(string text) =>
        WordPattern().Matches(text).Select(m => m.Value.ToLowerInvariant()).Where(w => w.Length >= 2).ToList();

    /// <summary>Share of the reference words (as a multiset-free set) that appear in the candidate text.</summary>
    public static double Recall(string reference, string candidate)
    {
        var expected = Words(reference).ToHashSet();
        if (expected.Count == 0)
        {
            return 1.0;
        }

        var found = Words(candidate).ToHashSet();
        return expected.Count(found.Contains) / (double)expected.Count;
    }

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex WordPattern();
}
