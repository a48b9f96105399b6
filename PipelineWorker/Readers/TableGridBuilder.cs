using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// Builds a <see cref="StructuredTable"/> from cells placed row by row, as DOCX, PPTX and HTML state them: a cell covers
/// <c>colSpan</c> grid columns from the first free one; a cell that continues a vertical merge (DOCX vMerge, PPTX vMerge)
/// grows the span of the cell above it instead of being a cell; HTML rowspans reserve the positions below.
/// </summary>
internal sealed class TableGridBuilder
{
    private readonly List<MutableCell> _cells = [];
    private readonly Dictionary<(int Row, int Column), MutableCell> _occupied = [];
    private int _row = -1;
    private int _column;

    public int Rows => _row + 1;

    public int Count => _cells.Count;

    public void StartRow()
    {
        _row++;
        _column = 0;
    }

    /// <summary>The next grid column not taken by a cell spanning down from a row above.</summary>
    private int NextFree()
    {
        while (_occupied.ContainsKey((_row, _column)))
        {
            _column++;
        }

        return _column;
    }

    public void Add(string text, int columnSpan = 1, int rowSpan = 1)
    {
        var column = NextFree();
        var cell = new MutableCell(_row, column, text.Trim(), Math.Clamp(columnSpan, 1, 1000), Math.Clamp(rowSpan, 1, 10_000));
        _cells.Add(cell);
        for (var r = 0; r < cell.RowSpan; r++)
        {
            for (var c = 0; c < cell.ColumnSpan; c++)
            {
                _occupied[(_row + r, column + c)] = cell;
            }
        }

        _column = column + cell.ColumnSpan;
    }

    /// <summary>A cell continuing the vertical merge above it: the cell above grows by a row (or it becomes a cell when there is none).</summary>
    public void ContinueAbove(int columnSpan = 1)
    {
        var column = NextFree();
        if (_row > 0 && _occupied.TryGetValue((_row - 1, column), out var above) && above.Column == column)
        {
            above.RowSpan++;
            for (var c = 0; c < above.ColumnSpan; c++)
            {
                _occupied[(_row, column + c)] = above;
            }

            _column = column + above.ColumnSpan;
            return;
        }

        Add("", columnSpan);
    }

    /// <summary>A grid position covered by the cell to its left (PPTX hMerge): nothing to add, the position is taken.</summary>
    public void Skip()
    {
        NextFree();
        _column++;
    }

    public StructuredTable Build(int headerRows)
    {
        var columns = _occupied.Count == 0 ? 0 : _occupied.Keys.Max(k => k.Column) + 1;
        var rows = Math.Max(Rows, _occupied.Count == 0 ? 0 : _occupied.Keys.Max(k => k.Row) + 1);
        var cells = _cells.Select(c => new TableCell(c.Row, c.Column, c.Text) { RowSpan = Math.Min(c.RowSpan, rows - c.Row), ColumnSpan = c.ColumnSpan }).ToList();
        return new StructuredTable(rows, columns, Math.Clamp(headerRows, 0, rows), cells);
    }

    private sealed class MutableCell(int row, int column, string text, int columnSpan, int rowSpan)
    {
        public int Row { get; } = row;

        public int Column { get; } = column;

        public string Text { get; } = text;

        public int ColumnSpan { get; } = columnSpan;

        public int RowSpan { get; set; } = rowSpan;
    }
}
