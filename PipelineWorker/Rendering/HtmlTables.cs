using System.Globalization;
using System.Text;
using Suite.Contracts;

namespace Suite.PipelineWorker.Rendering;

/// <summary>
/// A result table as an HTML table: its header rows (<see cref="ResultTable.HeaderRows"/>) in <c>thead</c> as
/// <c>th</c>, the rest in <c>tbody</c> as <c>td</c>, each cell once with its <c>rowspan</c>/<c>colspan</c>. A row
/// span is cut at the end of its row group, since HTML does not let a cell reach from the header into the body.
/// </summary>
internal static class HtmlTables
{
    public static void Append(StringBuilder html, ResultTable table)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(table);
        var headerRows = Math.Clamp(table.HeaderRows ?? 0, 0, table.RowCount);
        var rows = Enumerable.Range(0, table.RowCount).Select(_ => new List<TableCell>()).ToList();
        foreach (var cell in table.Cells.Where(c => c.Row >= 0 && c.Row < table.RowCount && c.Column >= 0 && c.Column < table.ColumnCount))
        {
            rows[cell.Row].Add(cell);
        }

        html.Append("<table data-table=\"").AppendEncoded(table.Id).Append("\">\n");
        if (headerRows > 0)
        {
            AppendGroup(html, "thead", rows, 0, headerRows, header: true);
        }

        if (table.RowCount > headerRows)
        {
            AppendGroup(html, "tbody", rows, headerRows, table.RowCount, header: false);
        }

        html.Append("</table>\n");
    }

    private static void AppendGroup(StringBuilder html, string group, List<List<TableCell>> rows, int from, int to, bool header)
    {
        html.Append('<').Append(group).Append(">\n");
        for (var r = from; r < to; r++)
        {
            html.Append("<tr>");
            foreach (var cell in rows[r].OrderBy(c => c.Column))
            {
                var tag = header ? "th" : "td";
                html.Append('<').Append(tag);
                if (header)
                {
                    html.Append(cell.ColumnSpan > 1 ? " scope=\"colgroup\"" : " scope=\"col\"");
                }

                var rowSpan = Math.Min(Math.Max(cell.RowSpan, 1), to - r);
                if (rowSpan > 1)
                {
                    html.Append(CultureInfo.InvariantCulture, $" rowspan=\"{rowSpan}\"");
                }

                if (cell.ColumnSpan > 1)
                {
                    html.Append(CultureInfo.InvariantCulture, $" colspan=\"{cell.ColumnSpan}\"");
                }

                html.Append('>').AppendEncoded(cell.Text).Append("</").Append(tag).Append('>');
            }

            html.Append("</tr>\n");
        }

        html.Append("</").Append(group).Append(">\n");
    }
}
