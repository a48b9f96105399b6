using System.Globalization;
using Microsoft.Extensions.Options;
using Suite.Chunking;

namespace IngestService.Chunks;

/// <summary>
/// Reads the chunks endpoint's query: <c>strategy</c> (hybrid, hierarchical), <c>maxTokens</c> (Chunks:MinMaxTokens to
/// Chunks:MaxMaxTokens), <c>overlapTokens</c> (0 to half of maxTokens, hybrid only), <c>tokenizer</c> (one of
/// Chunks:Tokenizers), each at most once; the first bad one is 400 invalid_chunk_parameter naming it. Other parameters
/// are ignored, as on the other endpoints.
/// </summary>
internal sealed class ChunkQuery(IOptions<ChunkOptions> options)
{
    public const string Strategy = "strategy";
    public const string MaxTokens = "maxTokens";
    public const string OverlapTokens = "overlapTokens";
    public const string Tokenizer = "tokenizer";

    /// <summary>The request with the configured defaults: what precomputed chunks are made with.</summary>
    public ChunkRequest Default(string strategy) => new(strategy, options.Value.DefaultMaxTokens, 0, options.Value.DefaultTokenizer);

    public (ChunkRequest? Request, IResult? Problem) Read(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var settings = options.Value;
        foreach (var name in (string[])[Strategy, MaxTokens, OverlapTokens, Tokenizer])
        {
            if (query.TryGetValue(name, out var values) && values.Count > 1)
            {
                return (null, ChunkProblems.InvalidParameter(name, values.ToString(), "is given more than once; give it once"));
            }
        }

        var strategy = ChunkStrategies.Hybrid;
        if (Value(query, Strategy) is { } askedStrategy)
        {
            if (ChunkStrategies.All.FirstOrDefault(s => s.Equals(askedStrategy, StringComparison.OrdinalIgnoreCase)) is not { } known)
            {
                return (null, ChunkProblems.InvalidParameter(Strategy, askedStrategy, $"must be one of {string.Join(", ", ChunkStrategies.All)}", ChunkStrategies.All));
            }

            strategy = known;
        }

        var maxTokens = settings.DefaultMaxTokens;
        if (Value(query, MaxTokens) is { } askedMax && (!Whole(askedMax, out maxTokens) || maxTokens < settings.MinMaxTokens || maxTokens > settings.MaxMaxTokens))
        {
            return (null, ChunkProblems.InvalidParameter(MaxTokens, askedMax, ChunkProblems.Range(settings.MinMaxTokens, settings.MaxMaxTokens)));
        }

        var overlap = 0;
        if (Value(query, OverlapTokens) is { } askedOverlap)
        {
            if (!Whole(askedOverlap, out overlap) || overlap > maxTokens / 2)
            {
                return (null, ChunkProblems.InvalidParameter(OverlapTokens, askedOverlap, ChunkProblems.Range(0, maxTokens / 2) + " (at most half of maxTokens)"));
            }

            if (overlap > 0 && strategy != ChunkStrategies.Hybrid)
            {
                return (null, ChunkProblems.InvalidParameter(OverlapTokens, askedOverlap, "applies to strategy=hybrid only; hierarchical chunks never overlap"));
            }
        }

        var tokenizer = settings.DefaultTokenizer;
        if (Value(query, Tokenizer) is { } askedTokenizer)
        {
            if (settings.Tokenizers.FirstOrDefault(t => t.Equals(askedTokenizer, StringComparison.OrdinalIgnoreCase)) is not { } named)
            {
                return (null, ChunkProblems.InvalidParameter(Tokenizer, askedTokenizer, $"must be one of {string.Join(", ", settings.Tokenizers)}", settings.Tokenizers));
            }

            tokenizer = named;
        }

        return (new ChunkRequest(strategy, maxTokens, overlap, tokenizer), null);
    }

    private static string? Value(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var values) && values.Count == 1 ? values[0]!.Trim() : null;

    private static bool Whole(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
