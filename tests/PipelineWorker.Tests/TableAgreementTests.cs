using System.Globalization;
using Suite.Contracts;
using Suite.Testing;
using Xunit.Abstractions;

namespace PipelineWorker.Tests;

/// <summary>
/// Table cell agreement, measured: the share of a reference grid's cells whose text the pipeline's table has in the
/// same place. The references are the body rows of the corpus's three tables, made from poppler's
/// <c>pdftotext -layout</c> (not from PdfPig, which the pipeline reads with) as Fixtures/tables/README.md says; the
/// firearm checks grid is also checked the way pdfplumber's own test checks that table (every numeric column sums
/// to twice its Totals row). docs/benchmarks.md ("Table cell agreement") reports the figures this test prints.
/// </summary>
public sealed class TableAgreementTests(ITestOutputHelper output) : IDisposable
{
    private readonly StagePipeline _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public void The_firearm_checks_reference_passes_pdfplumbers_own_column_sum_check()
    {
        var grid = Reference("nics-background-checks-2015-11.tsv");

        Assert.Equal(56, grid.Count);
        Assert.All(grid, row => Assert.Equal(25, row.Length));
        for (var c = 1; c < 25; c++)
        {
            var values = grid.Select(row => row[c].Length == 0 ? 0 : long.Parse(row[c].Replace(",", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal), CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(2 * values[^1], values.Sum());
        }
    }

    [Fact]
    public async Task Cells_of_the_corpus_tables_agree_with_their_references()
    {
        (string File, int Page, string Reference, double Floor)[] tables =
        [
            ("pdfplumber__nics-background-checks-2015-11.pdf", 1, "nics-background-checks-2015-11.tsv", 0.99),
            ("pdfplumber__senate-expenditures.pdf", 1, "senate-expenditures.tsv", 0.95),
            ("sf__multicolumn.pdf", 3, "multicolumn-p3.tsv", 0.99),
        ];

        var totals = new Agreement(0, 0, 0, 0);
        foreach (var (file, page, reference, floor) in tables)
        {
            var run = await _pipeline.RunAsync(file);
            var table = run.Result.Tables.Where(t => t.PageNumber == page).MaxBy(t => t.RowCount)!;
            var misses = new List<string>();
            var agreement = Measure(Reference(reference), table, misses);
            output.WriteLine($"{file} p{page} ({table.Detection}, {table.RowCount}x{table.ColumnCount}, {table.HeaderRows} header rows): {agreement}");
            misses.Take(10).ToList().ForEach(m => output.WriteLine("  " + m));
            Assert.True(agreement.FilledShare >= floor, $"{file}: {agreement}");
            totals += agreement;
        }

        output.WriteLine($"all three: {totals}");
    }

    /// <summary>
    /// Each reference row is paired with the not yet paired body row of the table that has the most cells equal to
    /// it (ties: the first), so that an extra or missing row costs only its own cells; cells compare by column
    /// index, text with whitespace runs (line breaks included) made single spaces. A grid position covered by a
    /// spanning cell reads as empty.
    /// </summary>
    private static Agreement Measure(List<string[]> reference, ResultTable table, List<string> misses)
    {
        var grid = new string[table.RowCount, table.ColumnCount];
        foreach (var cell in table.Cells)
        {
            grid[cell.Row, cell.Column] = Normal(cell.Text);
        }

        string At(int row, int column) => column < table.ColumnCount ? grid[row, column] ?? "" : "";
        var body = Enumerable.Range(table.HeaderRows ?? 0, table.RowCount - (table.HeaderRows ?? 0)).ToList();
        int equal = 0, filledEqual = 0, cells = 0, filled = 0;
        foreach (var expected in reference)
        {
            var best = body.Select(r => (Row: r, Score: expected.Select((text, c) => Normal(text) == At(r, c) ? 1 : 0).Sum()))
                .OrderByDescending(x => x.Score).ThenBy(x => x.Row).Select(x => (int?)x.Row).FirstOrDefault();
            for (var c = 0; c < expected.Length; c++)
            {
                var same = best is { } row && Normal(expected[c]) == At(row, c);
                if (!same)
                {
                    misses.Add($"row {(best is { } r ? r.ToString(CultureInfo.InvariantCulture) : "none")} column {c}: expected '{Normal(expected[c])}', got '{(best is { } g ? At(g, c) : "")}'");
                }

                cells++;
                equal += same ? 1 : 0;
                if (expected[c].Trim().Length > 0)
                {
                    filled++;
                    filledEqual += same ? 1 : 0;
                }
            }

            if (best is { } used)
            {
                body.Remove(used);
            }
        }

        return new Agreement(filledEqual, filled, equal, cells);
    }

    private static string Normal(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static List<string[]> Reference(string name) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tables", name)).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToList();

    private sealed record Agreement(int FilledEqual, int Filled, int Equal, int Cells)
    {
        public double FilledShare => Filled == 0 ? 1 : FilledEqual / (double)Filled;

        public static Agreement operator +(Agreement a, Agreement b) =>
            new(a.FilledEqual + b.FilledEqual, a.Filled + b.Filled, a.Equal + b.Equal, a.Cells + b.Cells);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{FilledEqual}/{Filled} non-empty cells agree ({FilledShare:P1}); {Equal}/{Cells} of all cells ({(Cells == 0 ? 1 : Equal / (double)Cells):P1})");
    }
}
