using System.Globalization;
using Suite.ServiceDefaults.Problems;

namespace IngestService.Chunks;

/// <summary>The problems of the chunks endpoint (docs/errors.md): a bad query parameter, named.</summary>
internal static class ChunkProblems
{
    public static IResult InvalidParameter(string parameter, string? value, string rule, IReadOnlyList<string>? allowed = null)
    {
        var extensions = new Dictionary<string, object?> { ["parameter"] = parameter };
        if (allowed is not null)
        {
            extensions["allowed"] = allowed;
        }

        return ApiProblem.Result(400, "invalid_chunk_parameter", "Invalid chunking parameter",
            $"The query parameter '{parameter}' {rule}; it was '{Clip(value)}'. Leave it out for its default (docs/chunks.md).",
            extensions: extensions);
    }

    public static string Range(int minimum, int maximum) =>
        string.Create(CultureInfo.InvariantCulture, $"must be a whole number from {minimum} to {maximum}");

    private static string Clip(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "...";
}
