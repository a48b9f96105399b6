using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace PipelineWorker.Tests;

/// <summary>
/// A DOCX with merged cells, written with the Open XML SDK (pandoc 2.17 cannot write spans): two header rows whose first
/// cell is merged down into the second row (vMerge) and whose second spans two columns (gridSpan).
/// </summary>
internal static class MergedCellsDocx
{
    public static byte[] Create()
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            var table = new Table(
                new TableGrid(new GridColumn(), new GridColumn(), new GridColumn()),
                new TableRow(
                    new TableRowProperties(new TableHeader()),
                    Cell("Quarter", new TableCellProperties(new VerticalMerge { Val = MergedCellValues.Restart })),
                    Cell("Tonnage", new TableCellProperties(new GridSpan { Val = 2 }))),
                new TableRow(
                    new TableRowProperties(new TableHeader()),
                    Cell("", new TableCellProperties(new VerticalMerge())),
                    Cell("Inbound"),
                    Cell("Outbound")),
                new TableRow(Cell("First"), Cell("1200"), Cell("900")));
            main.Document = new Document(new Body(new Paragraph(new Run(new Text("Port tonnage by quarter"))), table));
        }

        return stream.ToArray();
    }

    private static TableCell Cell(string text, TableCellProperties? properties = null)
    {
        var cell = new TableCell();
        if (properties is not null)
        {
            cell.Append(properties);
        }

        cell.Append(new Paragraph(new Run(new Text(text))));
        return cell;
    }
}
