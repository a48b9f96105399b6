using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;

namespace LabelStudioEmulator.Model;

/// <summary>An object tag of a labeling config (Image, Text, ...): what is labeled, read from <c>$variable</c>.</summary>
public sealed record ObjectTag(string Name, string Type, string Variable);

/// <summary>A control tag (RectangleLabels, Choices, ...): how it is labeled, pointing at object tags by toName.</summary>
public sealed record ControlTag(string Name, string Type, IReadOnlyList<string> ToNames, IReadOnlyList<string> Labels, int MaxRating);

/// <summary>
/// A parsed labeling config with the strict result validation of newer Label Studio: unknown from_name/to_name,
/// a type that does not match the control tag, a label that is not in the config or an out-of-range
/// rectangle is refused.
/// </summary>
public sealed class LabelConfig
{
    private LabelConfig(IReadOnlyDictionary<string, ObjectTag> objects, IReadOnlyDictionary<string, ControlTag> controls)
    {
        Objects = objects;
        Controls = controls;
    }

    public IReadOnlyDictionary<string, ObjectTag> Objects { get; }

    public IReadOnlyDictionary<string, ControlTag> Controls { get; }

    /// <summary>The task data keys the config reads.</summary>
    public IEnumerable<string> DataKeys => Objects.Values.Select(o => o.Variable).Distinct(StringComparer.Ordinal);

    public static LabelConfig? TryParse(string xml, out string error)
    {
        error = "";
        XDocument document;
        try
        {
            document = XDocument.Parse(xml);
        }
        catch (XmlException ex)
        {
            error = "Can't parse label config: " + ex.Message;
            return null;
        }

        if (document.Root is null || document.Root.Name.LocalName != "View")
        {
            error = "Validation failed on : the root tag must be <View>";
            return null;
        }

        var objects = new Dictionary<string, ObjectTag>(StringComparer.Ordinal);
        var controls = new Dictionary<string, ControlTag>(StringComparer.Ordinal);
        foreach (var element in document.Root.Descendants())
        {
            var name = (string?)element.Attribute("name");
            var toName = (string?)element.Attribute("toName");
            var value = (string?)element.Attribute("value");
            var tag = element.Name.LocalName;
            if (tag is "Label" or "Choice" or "View" or "Header" or "Style")
            {
                continue;
            }

            if (toName is not null || IsControlTag(tag))
            {
                if (string.IsNullOrEmpty(name))
                {
                    error = "Validation failed on : 'name' is a required property";
                    return null;
                }

                if (string.IsNullOrEmpty(toName))
                {
                    error = "Validation failed on : 'toName' is a required property";
                    return null;
                }

                var labels = element.Elements().Where(e => e.Name.LocalName is "Label" or "Choice")
                    .Select(e => (string?)e.Attribute("value") ?? "").ToList();
                var maxRating = int.TryParse((string?)element.Attribute("maxRating"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) ? m : 5;
                controls[name] = new ControlTag(name, tag, toName.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), labels, maxRating);
            }
            else if (name is not null && value is not null && value.StartsWith('$'))
            {
                objects[name] = new ObjectTag(name, tag, value[1..]);
            }
        }

        foreach (var control in controls.Values)
        {
            foreach (var target in control.ToNames)
            {
                if (!objects.ContainsKey(target))
                {
                    error = $"toName=\"{target}\" not found in names: [{string.Join(", ", objects.Keys.Select(k => "'" + k + "'"))}]";
                    return null;
                }
            }
        }

        return new LabelConfig(objects, controls);
    }

    /// <summary>Label Studio's parsed_label_config.</summary>
    public JsonObject ToParsedJson()
    {
        var parsed = new JsonObject();
        foreach (var control in Controls.Values)
        {
            var inputs = new JsonArray();
            foreach (var target in control.ToNames)
            {
                var obj = Objects[target];
                inputs.Add(new JsonObject { ["type"] = obj.Type, ["value"] = obj.Variable });
            }

            var toNames = new JsonArray();
            foreach (var target in control.ToNames)
            {
                toNames.Add(target);
            }

            var labels = new JsonArray();
            foreach (var label in control.Labels)
            {
                labels.Add(label);
            }

            parsed[control.Name] = new JsonObject { ["type"] = control.Type, ["to_name"] = toNames, ["inputs"] = inputs, ["labels"] = labels };
        }

        return parsed;
    }

    /// <summary>Null when the result list is valid, else why not.</summary>
    public string? ValidateResult(JsonNode? result)
    {
        if (result is not JsonArray items)
        {
            return "result must be a list";
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var problem = ValidateItem(items[i], ids);
            if (problem is not null)
            {
                return $"result[{i}]: {problem}";
            }
        }

        return null;
    }

    private string? ValidateItem(JsonNode? node, HashSet<string> ids)
    {
        if (node is not JsonObject item)
        {
            return "each result item must be a dict";
        }

        foreach (var key in new[] { "from_name", "to_name", "type", "value" })
        {
            if (item[key] is null)
            {
                return $"'{key}' is a required property";
            }
        }

        if (item["id"] is JsonValue idValue && !ids.Add(idValue.ToString()))
        {
            return $"duplicate result id \"{idValue}\"";
        }

        var fromName = item["from_name"]!.ToString();
        var toName = item["to_name"]!.ToString();
        var type = item["type"]!.ToString();
        if (!Controls.TryGetValue(fromName, out var control))
        {
            return $"from_name \"{fromName}\" is not a control tag of the labeling config";
        }

        if (!control.ToNames.Contains(toName, StringComparer.Ordinal))
        {
            return $"to_name \"{toName}\" does not match toName \"{string.Join(",", control.ToNames)}\" of control \"{fromName}\"";
        }

        var expectedType = control.Type.ToLowerInvariant();
        if (!string.Equals(type, expectedType, StringComparison.Ordinal))
        {
            return $"type \"{type}\" does not match control tag {control.Type} (expected \"{expectedType}\")";
        }

        if (item["value"] is not JsonObject value)
        {
            return "'value' must be a dict";
        }

        if (type.EndsWith("labels", StringComparison.Ordinal) || type == "choices")
        {
            if (value[type] is not JsonArray chosen || chosen.Count == 0)
            {
                return $"value.{type} must be a non-empty list";
            }

            foreach (var label in chosen)
            {
                if (label is not JsonValue v || !v.TryGetValue<string>(out var text) || !control.Labels.Contains(text, StringComparer.Ordinal))
                {
                    return $"label {label?.ToJsonString() ?? "null"} is not among the labels of \"{fromName}\": [{string.Join(", ", control.Labels)}]";
                }
            }
        }

        if (type is "rectanglelabels" or "rectangle")
        {
            var problem = ValidateRectangle(value, item);
            if (problem is not null)
            {
                return problem;
            }
        }

        if (type == "rating" && (value["rating"] is not JsonValue r || !r.TryGetValue<int>(out var rating) || rating < 1 || rating > control.MaxRating))
        {
            return $"value.rating must be an integer from 1 to {control.MaxRating}";
        }

        if (type == "textarea" && value["text"] is not JsonArray)
        {
            return "value.text must be a list of strings";
        }

        return null;
    }

    private static string? ValidateRectangle(JsonObject value, JsonObject item)
    {
        var numbers = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var key in new[] { "x", "y", "width", "height" })
        {
            if (value[key] is not JsonValue v || !v.TryGetValue<double>(out var number) || double.IsNaN(number))
            {
                return $"value.{key} must be a number";
            }

            if (number < 0 || number > 100)
            {
                return $"value.{key}={number.ToString(CultureInfo.InvariantCulture)} is outside 0..100 (percent of the image)";
            }

            numbers[key] = number;
        }

        var rotation = value["rotation"] is JsonValue rv && rv.TryGetValue<double>(out var rot) ? rot : 0;
        if (rotation == 0 && (numbers["x"] + numbers["width"] > 100.0001 || numbers["y"] + numbers["height"] > 100.0001))
        {
            return "the rectangle extends past the image (x+width or y+height over 100)";
        }

        foreach (var key in new[] { "original_width", "original_height" })
        {
            if (item[key] is { } size && (size is not JsonValue sv || !sv.TryGetValue<int>(out var pixels) || pixels <= 0))
            {
                return $"{key} must be a positive integer";
            }
        }

        return null;
    }

    private static bool IsControlTag(string tag) => tag.EndsWith("Labels", StringComparison.Ordinal) ||
        tag is "Choices" or "TextArea" or "Rating" or "Rectangle" or "Polygon" or "KeyPoint" or "Number" or "DateTime" or "Taxonomy";
}
