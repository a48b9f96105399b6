using System.Buffers;

namespace IngestService.Documents;

/// <summary>Document ids: 32 lowercase hex characters (a GUID in "N" format), URL- and path-safe.</summary>
internal static class DocumentId
{
    private static readonly SearchValues<char> Hex = SearchValues.Create("0123456789abcdef");

    public static string New() => Guid.NewGuid().ToString("N");

    public static bool IsValid(string? value) => value is { Length: 32 } && !value.AsSpan().ContainsAnyExcept(Hex);
}
