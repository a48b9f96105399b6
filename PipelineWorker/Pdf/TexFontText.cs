namespace Suite.PipelineWorker.Pdf;

/// <summary>
/// Text of glyphs from TeX's Computer Modern fonts that PdfPig 0.1.16 cannot decode. For embedded Type 1C
/// fonts with a built-in encoding and no ToUnicode map, PdfPig returns the raw character code (a control
/// character for Greek letters), so "γ1" comes out as "\u000D1". The codes follow TeX's font encodings:
/// OML for math italic (CMMI) and OT1 for text fonts (CMR, CMBX, CMTI, CMSL, CMSS).
/// </summary>
internal static class TexFontText
{
    private static readonly string[] UpperGreek = ["Γ", "Δ", "Θ", "Λ", "Ξ", "Π", "Σ", "Υ", "Φ", "Ψ", "Ω"];

    // OML 0x0B-0x27 as the Adobe Glyph List maps the CM glyph names (phi -> φ, phi1 -> ϕ, as poppler does).
    private static readonly string[] MathItalicLowerGreek =
    [
        "α", "β", "γ", "δ", "ε", "ζ", "η", "θ", "ι", "κ", "λ", "μ", "ν", "ξ", "π", "ρ", "σ", "τ", "υ", "φ", "χ",
        "ψ", "ω", "ϵ", "ϑ", "ϖ", "ϱ", "ς", "ϕ",
    ];

    // OT1 0x0B-0x1F: ligatures, dotless i/j, accents (dropped), ß æ œ ø Æ Œ Ø
    private static readonly string[] TextSpecials =
    [
        "ff", "fi", "fl", "ffi", "ffl", "ı", "ȷ", "", "", "", "", "", "", "", "ß", "æ", "œ", "ø", "Æ", "Œ", "Ø",
    ];

    /// <summary>The text of <paramref name="value"/> drawn with <paramref name="fontName"/>, when it is an undecoded TeX code.</summary>
    public static string? Decode(string? fontName, string value)
    {
        if (fontName is null || value.Length != 1)
        {
            return null;
        }

        var code = value[0];
        var plus = fontName.IndexOf('+', StringComparison.Ordinal);
        var name = plus >= 0 ? fontName[(plus + 1)..] : fontName;
        if (name.StartsWith("CMMI", StringComparison.Ordinal))
        {
            // Math italic has no ASCII punctuation at 0x20-0x27, so those codes are Greek too.
            return code switch
            {
                <= '\u000A' => UpperGreek[code],
                <= '\u0027' => MathItalicLowerGreek[code - 0x0B],
                '\u003A' => ".",
                '\u003B' => ",",
                _ => null,
            };
        }

        if (name.StartsWith("CMSY", StringComparison.Ordinal))
        {
            // Math symbols: the common ones, so formulas read "x ∈ X" rather than "x 2 X".
            return code switch
            {
                '\u0000' => "−",
                '\u0001' => "·",
                '\u0002' => "×",
                '\u0003' => "∗",
                '\u000E' => "∘",
                '\u0012' => "⊆",
                '\u0013' => "⊇",
                '\u0014' => "≤",
                '\u0015' => "≥",
                '\u0018' => "∼",
                '\u0021' => "→",
                '\u0032' => "∈",
                '\u003B' => "∅",
                _ => null,
            };
        }

        if (name.StartsWith("CMR", StringComparison.Ordinal) || name.StartsWith("CMBX", StringComparison.Ordinal)
            || name.StartsWith("CMTI", StringComparison.Ordinal) || name.StartsWith("CMSL", StringComparison.Ordinal)
            || name.StartsWith("CMSS", StringComparison.Ordinal))
        {
            return code switch
            {
                <= '\u000A' => UpperGreek[code],
                <= '\u001F' => TextSpecials[code - 0x0B],
                _ => null,
            };
        }

        return null;
    }
}
