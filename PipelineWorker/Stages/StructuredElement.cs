using System.Text.Json.Serialization;
using Suite.Contracts;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// An element a structured reader (DOCX, PPTX, HTML, Markdown) found in the file, in document order: its role
/// (<see cref="BlockRoles"/>), text, and where it came from (<see cref="Path"/>: the element path in the file, such as
/// <c>/body/p[3]</c> or <c>/slide[2]/title</c>). <see cref="Level"/> is the heading depth (0 for the title or a level-1
/// heading), <see cref="ListDepth"/> the nesting of a list item (0 outermost) and <see cref="Ordered"/> whether its list
/// is numbered; a <c>table</c> element has its <see cref="Table"/>, a <c>picture</c> element its <see cref="Picture"/>.
/// </summary>
internal sealed record StructuredElement(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("level")] int? Level = null,
    [property: JsonPropertyName("list")] int? ListDepth = null,
    [property: JsonPropertyName("ord")] bool? Ordered = null,
    [property: JsonPropertyName("table")] StructuredTable? Table = null,
    [property: JsonPropertyName("pic")] StructuredPicture? Picture = null);

/// <summary>A table as the file states it: grid size, header rows and cells with their spans (row and column from 0).</summary>
internal sealed record StructuredTable(
    [property: JsonPropertyName("rows")] int Rows,
    [property: JsonPropertyName("cols")] int Columns,
    [property: JsonPropertyName("head")] int HeaderRows,
    [property: JsonPropertyName("cells")] IReadOnlyList<TableCell> Cells);

/// <summary>
/// A picture: <see cref="Part"/> names its bytes inside the file (a package part such as <c>/word/media/image1.png</c>,
/// or a <c>data:</c> URI of an HTML or Markdown image), null when the picture is only a reference to elsewhere, which is
/// never fetched (<see cref="Reference"/> keeps it); <see cref="AltText"/> is its alternative text.
/// </summary>
internal sealed record StructuredPicture(
    [property: JsonPropertyName("part")] string? Part,
    [property: JsonPropertyName("alt")] string? AltText,
    [property: JsonPropertyName("ref")] string? Reference = null);
