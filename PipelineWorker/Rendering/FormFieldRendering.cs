using System.Text;
using Suite.Contracts;

namespace Suite.PipelineWorker.Rendering;

/// <summary>
/// The form fields in every rendering, after the last page: Markdown as a two-column table under a "Form fields"
/// heading, text as <c>name: value</c> lines under a "Form fields" line, HTML as a section with a two-column table.
/// Nothing when there is no form.
/// Values are put on one line (line breaks become spaces) so each field stays one row or line.
/// </summary>
internal static class FormFieldRendering
{
    public static void Append(StringBuilder markdown, StringBuilder text, IReadOnlyList<ResultFormField> fields)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0)
        {
            return;
        }

        markdown.Append("\n## Form fields\n\n| Field | Value |\n| --- | --- |\n");
        text.Append("\nForm fields\n");
        foreach (var field in fields)
        {
            markdown.Append("| ").Append(Cell(field.Name)).Append(" | ").Append(Cell(field.Value)).Append(" |\n");
            text.Append(OneLine(field.Name)).Append(':');
            var value = OneLine(field.Value);
            if (value.Length > 0)
            {
                text.Append(' ').Append(value);
            }

            text.Append('\n');
        }
    }

    public static void AppendHtml(StringBuilder html, IReadOnlyList<ResultFormField> fields)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0)
        {
            return;
        }

        html.Append("<section class=\"form-fields\">\n<h2>Form fields</h2>\n<table>\n<thead><tr><th scope=\"col\">Field</th><th scope=\"col\">Value</th></tr></thead>\n<tbody>\n");
        foreach (var field in fields)
        {
            html.Append("<tr><td>").AppendEncoded(field.Name).Append("</td><td>").AppendEncoded(field.Value).Append("</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n</section>\n");
    }

    /// <summary>A table cell: one line, with Markdown's markup (the pipe above all) escaped; "\#" at a cell start is harmless.</summary>
    private static string Cell(string value) => ResultRendering.EscapeMarkdownLine(OneLine(value));

    private static string OneLine(string value) =>
        string.Join(' ', value.Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
