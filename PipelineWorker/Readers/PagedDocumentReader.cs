using System.Text.Json;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// A reader whose format is read in one pass, page after page (images, DOCX, PPTX, HTML, Markdown): it only says how
/// to probe the file and how to enumerate its pages; checkpoints are written here, the same way for all of them.
/// </summary>
internal abstract class PagedDocumentReader : IDocumentReader
{
    public abstract IReadOnlyList<string> Formats { get; }

    /// <summary>Who reads the pages, for the pages' extractor (<see cref="PageExtractors"/>).</summary>
    public abstract string Extractor { get; }

    /// <summary>Checks the file against the limits before reading it in full, and counts its pages (frames, slides).</summary>
    public abstract int Probe(string path, CancellationToken cancellationToken);

    /// <summary>The pages in order (numbered from 1), one at a time.</summary>
    public abstract IEnumerable<ExtractedPage> ReadPages(string path, CancellationToken cancellationToken);

    public virtual string? CopyPicture(string path, string part, string destination, CancellationToken cancellationToken) => null;

    public Task<ValidateCheckpoint> ValidateAsync(string path, long sizeBytes, string format, CancellationToken cancellationToken) =>
        Task.FromResult(new ValidateCheckpoint(Checkpoints.FormatVersion, Probe(path, cancellationToken), sizeBytes, "", false, Extractor, format));

    public async Task<StageResult> ExtractAsync(StageContext context, int pageCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var selected = Enumerable.Range(1, pageCount).Count(context.IncludesPage);
        var count = 0;
        await Checkpoints.WriteAtomicallyAsync(context.CheckpointPath(PipelineStageNames.Extract), async stream =>
        {
            await using var writer = new Utf8JsonWriter(stream);
            writer.WriteStartArray();
            foreach (var page in ReadPages(context.ContentPath, cancellationToken))
            {
                if (!context.IncludesPage(page.Number))
                {
                    continue;
                }

                JsonSerializer.Serialize(writer, page, Checkpoints.JsonOptions);
                await writer.FlushAsync(cancellationToken);
                context.ReportPages(++count, Math.Max(selected, count));
            }

            writer.WriteEndArray();
            await writer.FlushAsync(cancellationToken);
        });

        return count == 0
            ? throw new PipelineFailure(FailureCodes.NoPages, "The document has no pages. Upload another file.")
            : StageResult.Completed;
    }
}
