using System.Text.Json.Nodes;
using LabelingBridge.Configuration;
using Microsoft.Extensions.Options;
using Suite.Contracts;

namespace LabelingBridge.Exports;

/// <summary>One Label Studio task for one page: its import JSON and the page number it stands for.</summary>
public sealed record PageTask(int PageNo, JsonObject Task);

/// <summary>
/// Builds one task per page: data {image, doc_id, page_no} (doc_id and page_no make an import checkable, hence
/// idempotent) and the pipeline's regions as one prediction of rectangle labels.
/// </summary>
public sealed class LayoutTaskBuilder(IOptions<BridgeOptions> options)
{
    public const string ModelVersionPrefix = "suite-pipeline/result-v";

    public IReadOnlyList<PageTask> Build(DocumentResult result, string documentId)
    {
        ArgumentNullException.ThrowIfNull(result);
        var bridge = options.Value;
        var baseUrl = bridge.PublicBaseUrl!.ToString().TrimEnd('/');
        var tasks = new List<PageTask>(result.Pages.Count);
        foreach (var page in result.Pages.OrderBy(p => p.PageNumber))
        {
            var regions = new JsonArray();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            // The rendered image's real size when the pipeline reports one, else the page at the configured render scale.
            var width = page.Image?.WidthPx ?? LayoutGeometry.Pixels(page.Width, bridge.RenderScale);
            var height = page.Image?.HeightPx ?? LayoutGeometry.Pixels(page.Height, bridge.RenderScale);
            foreach (var block in page.Blocks)
            {
                if (LayoutGeometry.ToPercent(block.BoundingBox, page.Width, page.Height) is not { } box)
                {
                    continue;
                }

                regions.Add(new JsonObject
                {
                    ["id"] = UniqueId(block.Id, ids),
                    ["type"] = "rectanglelabels",
                    ["from_name"] = LayoutLabels.RectangleLabelsName,
                    ["to_name"] = LayoutLabels.ImageName,
                    ["original_width"] = width,
                    ["original_height"] = height,
                    ["image_rotation"] = 0,
                    ["value"] = new JsonObject
                    {
                        ["x"] = box.X,
                        ["y"] = box.Y,
                        ["width"] = box.Width,
                        ["height"] = box.Height,
                        ["rotation"] = 0,
                        ["rectanglelabels"] = new JsonArray(LayoutLabels.ForRole(block.Role)),
                    },
                });
            }

            var task = new JsonObject
            {
                ["data"] = new JsonObject
                {
                    ["image"] = baseUrl + ArtifactRoutes.PageImage(Uri.EscapeDataString(documentId), page.PageNumber),
                    ["doc_id"] = documentId,
                    ["page_no"] = page.PageNumber,
                },
                ["predictions"] = new JsonArray(new JsonObject
                {
                    ["model_version"] = ModelVersionPrefix + result.SchemaVersion,
                    ["result"] = regions,
                }),
            };
            tasks.Add(new PageTask(page.PageNumber, task));
        }

        return tasks;
    }

    /// <summary>Result ids must be unique within a task; block ids are, but stay safe against repeats and length.</summary>
    private static string UniqueId(string blockId, HashSet<string> used)
    {
        var id = string.IsNullOrWhiteSpace(blockId) ? "r" : blockId.Length > 48 ? blockId[..48] : blockId;
        var candidate = id;
        for (var n = 2; !used.Add(candidate); n++)
        {
            candidate = id + "-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return candidate;
    }
}
