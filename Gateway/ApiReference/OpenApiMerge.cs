using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Suite.ServiceDefaults.Problems;

namespace Gateway.ApiReference;

/// <summary>
/// Merges the services' OpenAPI documents into the gateway's public one, on the JSON itself: of each service only the
/// operations the gateway routes to that service; components united (a same-named component that differs is renamed
/// with the service's name, and its references with it); the problems the gateway answers itself added to every
/// operation.
/// </summary>
internal static class OpenApiMerge
{
    private const string ProblemSchema = "#/components/schemas/ProblemDetails";

    private static readonly HashSet<string> Methods = new(StringComparer.Ordinal) { "get", "put", "post", "delete", "options", "head", "patch", "trace" };

    /// <param name="sources">Each service's document with the id of the cluster the gateway forwards to it, in a stable order.</param>
    /// <param name="clusterFor">The cluster the gateway sends (method, OpenAPI path) to, or null.</param>
    /// <param name="gatewayProblems">Status and code of each problem the gateway itself can answer on an operation (method, path).</param>
    public static JsonObject Merge(
        IReadOnlyList<(string Cluster, JsonObject Document)> sources,
        Func<string, string, string?> clusterFor,
        Func<string, string, IReadOnlyList<(int Status, string Code)>> gatewayProblems,
        string title,
        string description)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(clusterFor);
        ArgumentNullException.ThrowIfNull(gatewayProblems);
        var paths = new JsonObject();
        var components = new JsonObject();
        var tags = new JsonArray();
        JsonNode? security = null;
        var version = "3.1.1";
        foreach (var (cluster, source) in sources)
        {
            var document = source.DeepClone().AsObject();
            UniteComponents(document, components, cluster);
            foreach (var (path, item) in document["paths"]?.AsObject() ?? [])
            {
                if (item is JsonObject pathItem)
                {
                    AddRoutedOperations(paths, path, pathItem, method => string.Equals(clusterFor(method, path), cluster, StringComparison.OrdinalIgnoreCase));
                }
            }

            foreach (var tag in document["tags"]?.AsArray() ?? [])
            {
                if (tag?["name"]?.GetValue<string>() is { } name && !tags.Any(t => t?["name"]?.GetValue<string>() == name))
                {
                    tags.Add(tag.DeepClone());
                }
            }

            security ??= document["security"]?.DeepClone();
            version = document["openapi"]?.GetValue<string>() ?? version;
        }

        AddGatewayProblems(paths, gatewayProblems, components["schemas"]?[ProblemSchema.Split('/')[^1]] is not null);
        var merged = new JsonObject
        {
            ["openapi"] = version,
            ["info"] = new JsonObject { ["title"] = title, ["description"] = description, ["version"] = "v1" },
            ["paths"] = paths,
            ["components"] = components,
        };
        if (security is not null)
        {
            merged["security"] = security;
        }

        if (tags.Count > 0)
        {
            merged["tags"] = tags;
        }

        return merged;
    }

    /// <summary>Copies the operations of a path item that the gateway routes to this service (and the item's other members).</summary>
    private static void AddRoutedOperations(JsonObject paths, string path, JsonObject item, Func<string, bool> routedHere)
    {
        var kept = new JsonObject();
        foreach (var (key, value) in item)
        {
            if (!Methods.Contains(key) || routedHere(key.ToUpperInvariant()))
            {
                kept[key] = value?.DeepClone();
            }
        }

        if (!kept.Any(member => Methods.Contains(member.Key)))
        {
            return;
        }

        if (paths[path] is JsonObject existing)
        {
            // The same path served by two services (different methods): one path item with all of them.
            foreach (var (key, value) in kept)
            {
                existing[key] ??= value?.DeepClone();
            }
        }
        else
        {
            paths[path] = kept;
        }
    }

    /// <summary>
    /// Adds the document's components to the merged ones. A component whose name is taken by a different one is renamed
    /// (service name + name) and the document's references follow it; repeated until nothing collides, as a rename
    /// can make two components that referenced it differ.
    /// </summary>
    private static void UniteComponents(JsonObject document, JsonObject merged, string cluster)
    {
        if (document["components"] is not JsonObject incoming)
        {
            return;
        }

        var prefix = string.Concat(cluster.Split('-', '_', '.').Where(p => p.Length > 0).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
        bool renamed;
        do
        {
            renamed = false;
            foreach (var (kind, members) in incoming)
            {
                if (members is not JsonObject mine || merged[kind] is not JsonObject theirs)
                {
                    continue;
                }

                foreach (var name in mine.Select(m => m.Key).ToList())
                {
                    if (theirs[name] is { } taken && !JsonNode.DeepEquals(taken, mine[name]))
                    {
                        var fresh = prefix + name;
                        for (var i = 2; theirs[fresh] is not null || mine[fresh] is not null; i++)
                        {
                            fresh = prefix + name + i.ToString(CultureInfo.InvariantCulture);
                        }

                        var component = mine[name]!;
                        mine.Remove(name);
                        mine[fresh] = component;
                        RewriteReferences(document, $"#/components/{kind}/{name}", $"#/components/{kind}/{fresh}");
                        renamed = true;
                    }
                }
            }
        }
        while (renamed);

        foreach (var (kind, members) in incoming)
        {
            if (members is not JsonObject mine)
            {
                continue;
            }

            if (merged[kind] is not JsonObject theirs)
            {
                merged[kind] = theirs = new JsonObject();
            }

            foreach (var (name, component) in mine)
            {
                theirs[name] ??= component?.DeepClone();
            }
        }
    }

    private static void RewriteReferences(JsonNode? node, string from, string to)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"] is JsonValue reference && reference.TryGetValue<string>(out var target) && target == from)
                {
                    obj["$ref"] = to;
                }

                foreach (var (_, child) in obj)
                {
                    RewriteReferences(child, from, to);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    RewriteReferences(child, from, to);
                }

                break;
        }
    }

    /// <summary>Each operation can also get the gateway's own problems (its key, rate limit and path checks on the route; a service down, too slow, failing).</summary>
    private static void AddGatewayProblems(JsonObject paths, Func<string, string, IReadOnlyList<(int Status, string Code)>> problemsFor, bool problemSchemaExists)
    {
        foreach (var (path, item) in paths)
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (!Methods.Contains(method) || operation is not JsonObject op)
                {
                    continue;
                }

                if (op["responses"] is not JsonObject responses)
                {
                    op["responses"] = responses = new JsonObject();
                }

                foreach (var (status, code) in problemsFor(method, path))
                {
                    var key = status.ToString(CultureInfo.InvariantCulture);
                    if (responses[key] is not JsonObject response)
                    {
                        responses[key] = response = new JsonObject
                        {
                            ["content"] = new JsonObject
                            {
                                [ApiProblem.ContentType] = new JsonObject
                                {
                                    ["schema"] = problemSchemaExists ? new JsonObject { ["$ref"] = ProblemSchema } : new JsonObject { ["type"] = "object" },
                                },
                            },
                        };
                    }

                    if (response[ApiProblemResponses.CodesExtension] is not JsonArray codes)
                    {
                        response[ApiProblemResponses.CodesExtension] = codes = [];
                    }

                    if (!codes.Any(c => c?.GetValue<string>() == code))
                    {
                        codes.Add(code);
                    }

                    response["description"] = ApiProblemResponses.Describe(status, codes.Select(c => c!.GetValue<string>()).ToList());
                }
            }
        }
    }
}
