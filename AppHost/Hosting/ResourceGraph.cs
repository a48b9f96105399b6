namespace Suite.AppHost.Hosting;

/// <summary>Dependencies between resources (WaitFor and WithReference): start order, stop order, checks.</summary>
internal static class ResourceGraph
{
    public static IEnumerable<Resource> DependenciesOf(Resource resource) =>
        resource.Annotations.OfType<WaitAnnotation>().Select(a => a.Target)
            .Concat(resource.Annotations.OfType<ReferenceAnnotation>().Select(a => a.Target))
            .Distinct();

    public static IEnumerable<Resource> WaitsOf(Resource resource) =>
        resource.Annotations.OfType<WaitAnnotation>().Select(a => a.Target).Distinct();

    /// <summary>Problems a person must fix in the app model, in words.</summary>
    public static IEnumerable<string> Validate(IReadOnlyList<Resource> resources)
    {
        var known = resources.ToHashSet();
        foreach (var resource in resources)
        {
            foreach (var dependency in DependenciesOf(resource))
            {
                if (ReferenceEquals(dependency, resource))
                {
                    yield return $"'{resource.Name}' refers to or waits for itself.";
                }
                else if (!known.Contains(dependency))
                {
                    yield return $"'{resource.Name}' refers to '{dependency.Name}', which is not part of this application.";
                }
            }

            var endpoint = resource.Annotations.OfType<HttpEndpointAnnotation>().LastOrDefault();
            if (endpoint?.Port is not null && resource.Replicas > 1)
            {
                yield return $"'{resource.Name}' has the fixed port {endpoint.Port} and {resource.Replicas} replicas; one port serves one process.";
            }
        }

        var cycle = FindCycle(resources);
        if (cycle is not null)
        {
            yield return "Dependency cycle: " + string.Join(" -> ", cycle.Select(r => r.Name));
        }
    }

    /// <summary>0 for a resource without dependencies, else one more than its deepest dependency.</summary>
    public static IReadOnlyDictionary<Resource, int> Depths(IReadOnlyList<Resource> resources)
    {
        var depths = new Dictionary<Resource, int>();
        int Depth(Resource resource, int guard)
        {
            if (depths.TryGetValue(resource, out var known))
            {
                return known;
            }

            var deps = DependenciesOf(resource).Where(d => !ReferenceEquals(d, resource)).ToList();
            var depth = guard > resources.Count || deps.Count == 0 ? 0 : 1 + deps.Max(d => Depth(d, guard + 1));
            depths[resource] = depth;
            return depth;
        }

        foreach (var resource in resources)
        {
            Depth(resource, 0);
        }

        return depths;
    }

    private static List<Resource>? FindCycle(IReadOnlyList<Resource> resources)
    {
        var state = new Dictionary<Resource, int>(); // 1 visiting, 2 done
        var path = new List<Resource>();

        List<Resource>? Visit(Resource resource)
        {
            state[resource] = 1;
            path.Add(resource);
            foreach (var dependency in DependenciesOf(resource).Where(d => !ReferenceEquals(d, resource)))
            {
                var seen = state.GetValueOrDefault(dependency);
                if (seen == 1)
                {
                    return [.. path.SkipWhile(r => !ReferenceEquals(r, dependency)), dependency];
                }

                if (seen == 0 && Visit(dependency) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[resource] = 2;
            return null;
        }

        foreach (var resource in resources)
        {
            if (state.GetValueOrDefault(resource) == 0 && Visit(resource) is { } cycle)
            {
                return cycle;
            }
        }

        return null;
    }
}
