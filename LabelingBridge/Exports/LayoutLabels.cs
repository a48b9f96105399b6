using System.Xml.Linq;

namespace LabelingBridge.Exports;

/// <summary>
/// The layout labels of the Label Studio project (the DocLayNet/Docling classes) and the labeling config that
/// offers them: an Image named "image" read from $image, RectangleLabels named "label" pointing at it.
/// </summary>
public static class LayoutLabels
{
    public const string ImageName = "image";
    public const string RectangleLabelsName = "label";

    /// <summary>Label and colour, in the order annotators see them.</summary>
    public static readonly IReadOnlyList<(string Label, string Colour)> All =
    [
        ("Title", "#e6194b"),
        ("Section-header", "#f58231"),
        ("Text", "#3cb44b"),
        ("List-item", "#911eb4"),
        ("Table", "#4363d8"),
        ("Picture", "#42d4f4"),
        ("Caption", "#f032e6"),
        ("Page-header", "#9a6324"),
        ("Page-footer", "#808000"),
        ("Footnote", "#469990"),
        ("Formula", "#000075"),
    ];

    /// <summary>The pipeline's block role as a label; roles without their own label are Text.</summary>
    public static string ForRole(string? role) => (role ?? "").Trim().ToLowerInvariant().Replace('-', '_').Replace(' ', '_') switch
    {
        "title" => "Title",
        "section_header" or "sectionheader" or "heading" => "Section-header",
        "paragraph" or "text" => "Text",
        "list_item" or "listitem" => "List-item",
        "table" => "Table",
        "picture" or "figure" or "image" => "Picture",
        "caption" => "Caption",
        "page_header" => "Page-header",
        "page_footer" => "Page-footer",
        "footnote" => "Footnote",
        "formula" or "equation" => "Formula",
        _ => "Text",
    };

    public static string LabelConfigXml()
    {
        var labels = new XElement("RectangleLabels",
            new XAttribute("name", RectangleLabelsName),
            new XAttribute("toName", ImageName),
            new XAttribute("canRotate", "false"),
            new XAttribute("strokeWidth", "2"),
            All.Select(l => new XElement("Label", new XAttribute("value", l.Label), new XAttribute("background", l.Colour))));
        var view = new XElement("View",
            new XElement("Image", new XAttribute("name", ImageName), new XAttribute("value", "$" + ImageName), new XAttribute("zoom", "true"), new XAttribute("zoomControl", "true")),
            labels);
        return view.ToString();
    }
}
