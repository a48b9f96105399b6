using System.Text.Json;
using System.Text.Json.Nodes;
using LabelingBridge.Exports;
using LabelingBridge.LabelStudio;
using Suite.Contracts;

namespace LabelingBridge.Annotations;

/// <summary>From Label Studio's annotation JSON to what the bridge stores and shows.</summary>
public static class AnnotationMapping
{
    public static StoredAnnotation? ToStored(LsAnnotation annotation, LsTask task, int? projectId, string source, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(annotation);
        ArgumentNullException.ThrowIfNull(task);
        if (task.DocumentId is not { } documentId || task.PageNo is not { } pageNo)
        {
            return null;
        }

        var completedBy = annotation.CompletedBy switch
        {
            JsonValue v => v.ToString(),
            JsonObject o => o["email"]?.ToString() ?? o["id"]?.ToString(),
            _ => null,
        };
        return new StoredAnnotation(annotation.Id, task.Id, projectId, documentId, pageNo, (annotation.Result ?? []).ToJsonString(),
            completedBy, annotation.WasCancelled, annotation.CreatedAt, annotation.UpdatedAt, source, now);
    }

    /// <summary>
    /// Regions in PDF points need only the page size in points (remembered at export); without it they are derived
    /// from the image size Label Studio reports and the render scale.
    /// </summary>
    public static AnnotationView ToView(StoredAnnotation stored, (double Width, double Height)? pageSize, double renderScale)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var result = JsonNode.Parse(stored.ResultJson) as JsonArray ?? [];
        var regions = new List<RegionView>();
        foreach (var item in result.OfType<JsonObject>())
        {
            if (item["value"] is not JsonObject value || !Number(value, "x", out var x) || !Number(value, "y", out var y) ||
                !Number(value, "width", out var w) || !Number(value, "height", out var h))
            {
                continue;
            }

            var label = (value["rectanglelabels"] as JsonArray)?.FirstOrDefault()?.ToString() ?? item["type"]?.ToString() ?? "";
            var percent = new PercentBox(x, y, w, h);
            BoundingBox? points = null;
            if (pageSize is { } size)
            {
                points = LayoutGeometry.ToPoints(percent, size.Width, size.Height);
            }
            else if (Number(item, "original_width", out var pixelsWide) && Number(item, "original_height", out var pixelsHigh) && renderScale > 0)
            {
                points = LayoutGeometry.ToPoints(percent, pixelsWide / renderScale, pixelsHigh / renderScale);
            }

            regions.Add(new RegionView(item["id"]?.ToString(), label, percent, points));
        }

        return new AnnotationView(stored.AnnotationId, stored.TaskId, stored.PageNo, stored.CompletedBy, stored.WasCancelled,
            stored.CreatedAt, stored.UpdatedAt, stored.Source, regions, result);
    }

    public static T? Parse<T>(JsonNode? node) => node is null ? default : node.Deserialize<T>(LabelStudioJson.Options);

    private static bool Number(JsonObject obj, string key, out double number)
    {
        number = 0;
        return obj[key] is JsonValue v && v.TryGetValue(out number);
    }
}

/// <summary>One annotation as GET /api/documents/{id}/annotations shows it: regions with the label, Label Studio's percent box and the box in PDF points (bottom-left origin).</summary>
public sealed record AnnotationView(
    long AnnotationId,
    long TaskId,
    int PageNo,
    string? CompletedBy,
    bool WasCancelled,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? UpdatedAt,
    string Source,
    IReadOnlyList<RegionView> Regions,
    JsonArray Result);

public sealed record RegionView(string? Id, string Label, PercentBox Percent, BoundingBox? BoundingBox);
