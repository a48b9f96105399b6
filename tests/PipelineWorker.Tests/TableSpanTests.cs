using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.PipelineWorker.Tables;

namespace PipelineWorker.Tests;

/// <summary>
/// Row and column spans and header rows of ruled tables: on drawn grids made for the purpose (what each rule
/// merges, and what it must leave alone), and on the corpus's two ruled tables, checked against the page by eye.
/// </summary>
public sealed class TableSpanTests : IDisposable
{
    private readonly StagePipeline _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public void A_group_header_over_two_columns_spans_them_and_the_label_beside_it_spans_both_header_lines()
    {
        // Name | Size (over width, height); the line between width and height stops below "Size".
        List<Ruling> rulings =
        [
            .. new[] { 100.0, 60, 40, 20 }.Select(y => new Ruling(0, y, 300, y)),
            new(0, 20, 0, 100), new(100, 20, 100, 100), new(300, 20, 300, 100), new(200, 20, 200, 78),
        ];
        List<ExtractedWord> words =
        [
            Word("Size", 140, 85), Word("Name", 10, 65), Word("width", 110, 65), Word("height", 210, 65),
            Word("box", 10, 45), Word("10", 110, 45), Word("20", 210, 45),
            Word("bag", 10, 25), Word("30", 110, 25), Word("40", 210, 25),
        ];

        var table = Assert.Single(TableDetector.Detect(words, rulings));

        Assert.Equal((4, 3, 2), (table.Rows, table.Columns, table.HeaderRows));
        Assert.Equal(
            ["0,0 2x1 Name", "0,1 1x2 Size", "1,1 1x1 width", "1,2 1x1 height", "2,0 1x1 box", "2,1 1x1 10", "2,2 1x1 20", "3,0 1x1 bag", "3,1 1x1 30", "3,2 1x1 40"],
            table.Cells.Select(Describe));
    }

    [Fact]
    public void A_body_without_inner_lines_keeps_its_columns_and_its_empty_cells_apart()
    {
        // Lines only around the header and the frame (as the senate table): the body's columns are implied, and a
        // row whose first cell is empty must not become one cell spanning into its neighbour.
        List<Ruling> rulings =
        [
            new(0, 100, 300, 100), new(0, 80, 300, 80), new(0, 20, 300, 20),
            new(0, 20, 0, 100), new(300, 20, 300, 100), new(100, 80, 100, 100), new(200, 80, 200, 100),
        ];
        List<ExtractedWord> words =
        [
            Word("Date", 10, 88), Word("Payee", 110, 88), Word("Amount", 210, 88),
            Word("SMITH", 110, 65), Word("21.00", 210, 65),
            Word("05/03", 10, 50), Word("BAIN", 110, 50), Word("37.50", 210, 50),
        ];

        var table = Assert.Single(TableDetector.Detect(words, rulings));

        Assert.All(table.Cells, c => Assert.Equal((1, 1), (c.RowSpan, c.ColumnSpan)));
        Assert.Equal(9, table.Cells.Count);
        Assert.Equal(1, table.HeaderRows);
    }

    [Fact]
    public async Task The_firearm_checks_table_has_its_title_rows_its_column_groups_and_four_header_rows()
    {
        var run = await _pipeline.RunAsync("pdfplumber__nics-background-checks-2015-11.pdf");

        var table = run.Result.Tables.MaxBy(t => t.RowCount)!;
        Assert.Equal(4, table.HeaderRows);
        var title = table.Cells.Single(c => c.Text == "NICS Firearm Background Checks");
        Assert.Equal((0, 0, 1, 25), (title.Row, title.Column, title.RowSpan, title.ColumnSpan));
        Assert.Equal(25, table.Cells.Single(c => c.Text == "November - 2015").ColumnSpan);
        Assert.Equal(
            ["Pre-Pawn 3", "Redemption 3", "Returned/Disposition 3", "Rentals 2", "Private Sale 3", "Return to Seller - Private Sale 3"],
            table.Cells.Where(c => c.Row == 2 && c.ColumnSpan > 1).Select(c => $"{c.Text} {c.ColumnSpan}"));
        Assert.Equal(
            ["State / Territory", "Permit", "Handgun", "Long Gun", "*Other", "**Multiple", "Admin", "Totals"],
            table.Cells.Where(c => c.Row == 2 && c.RowSpan == 2).Select(c => c.Text));
        Assert.Equal(25 - 8, table.Cells.Count(c => c.Row == 3));
        // Every grid position is covered by exactly one cell.
        AssertTiled(table);

        // Markdown: the title rows above the table, one header row naming each column under its group.
        Assert.Contains(
            "NICS Firearm Background Checks\n\nNovember - 2015\n\n| State / Territory | Permit | Handgun | Long Gun | \\*Other | \\*\\*Multiple | Admin | " +
            "Pre-Pawn Handgun | Pre-Pawn Long Gun | Pre-Pawn \\*Other | Redemption Handgun |",
            run.Markdown, StringComparison.Ordinal);
        Assert.Contains("| Alabama | 18,870 | 23,022 | 22,650 | 859 | 1,178 | 0 | 14 | 15 | 0 | 2,179 |", run.Markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_senate_table_gets_the_first_column_its_closed_frame_draws_and_its_two_line_header()
    {
        var run = await _pipeline.RunAsync("pdfplumber__senate-expenditures.pdf");

        var table = Assert.Single(run.Result.Tables);
        Assert.Equal(7, table.ColumnCount);
        Assert.Equal(2, table.HeaderRows);
        Assert.Equal(
            ["0,0 2x1 DOCUMENT NO.", "0,1 2x1 DATE POSTED", "0,2 2x1 PAYEE NAME", "0,3 1x2 OBLIGATION/SERVICE DATES", "0,5 2x1 DESCRIPTION", "0,6 2x1 AMOUNT ($)", "1,3 1x1 START", "1,4 1x1 END"],
            table.Cells.Where(c => c.Row < 2).Select(Describe));
        var payee = table.Cells.First(c => c.Text == "CITIBANK - TRAVEL CBA CARD");
        Assert.Equal("DHAW20190001", table.Cells.Single(c => c.Row == payee.Row && c.Column == 0).Text);
        AssertTiled(table);

        Assert.Contains("| DOCUMENT NO. | DATE POSTED | PAYEE NAME | OBLIGATION/SERVICE DATES START | OBLIGATION/SERVICE DATES END | DESCRIPTION | AMOUNT ($) |\n| --- |", run.Markdown, StringComparison.Ordinal);
    }

    private static void AssertTiled(ResultTable table)
    {
        var covered = new int[table.RowCount, table.ColumnCount];
        foreach (var cell in table.Cells)
        {
            for (var r = cell.Row; r < cell.Row + cell.RowSpan; r++)
            {
                for (var c = cell.Column; c < cell.Column + cell.ColumnSpan; c++)
                {
                    covered[r, c]++;
                }
            }
        }

        Assert.All(covered.Cast<int>(), n => Assert.Equal(1, n));
    }

    private static string Describe(TableCell c) => $"{c.Row},{c.Column} {c.RowSpan}x{c.ColumnSpan} {c.Text.Replace('\n', ' ')}";

    private static ExtractedWord Word(string text, double left, double bottom) => new(text, left, bottom, left + (5 * text.Length), bottom + 6, "Helvetica", 6);
}
