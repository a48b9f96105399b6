using Suite.PipelineWorker.Stages;
namespace Suite.PipelineWorker.Tables;

/// <summary>
/// One text row of a ruled table before spans are known: a whole ruled row, or one of its text lines when a ruled
/// row holds several (<see cref="Split"/>), with the words that fall in each kept grid column (null: none).
/// <see cref="RuledRow"/> is the index of the ruled row in the grid, so that rows split from one ruled row can be
/// told from rows that a drawn line separates.
/// </summary>
internal sealed record TableBand(int RuledRow, double Bottom, double Top, bool Split, IReadOnlyList<List<ExtractedWord>?> Words);
