namespace Suite.Chunking;

/// <summary>
/// One structural element of a result in reading order, with the titles and section headers above it. A text element
/// (paragraph, list item, code, caption, picture description, a heading with nothing under it) has its
/// <see cref="Text"/>; a table (or the form fields) has <see cref="Rows"/> instead, the first <see cref="HeaderRows"/>
/// of them its column headers.
/// </summary>
internal sealed record StructuralElement(string Role, IReadOnlyList<string> Headings, ChunkSource Source, string Text)
{
    public IReadOnlyList<TableRow> Rows { get; init; } = [];

    public int HeaderRows { get; init; }

    public bool IsTable => Rows.Count > 0;
}

/// <summary>One row of a table as a line of text (cells joined with " | "), with the box of its cells.</summary>
internal sealed record TableRow(string Text, ChunkSource Source);
