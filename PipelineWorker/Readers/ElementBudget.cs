using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>Counts the elements a reader emits and refuses the document past <see cref="ReaderOptions.MaxElements"/>.</summary>
internal sealed class ElementBudget(int maxElements, string format)
{
    private int _count;

    public StructuredElement Take(StructuredElement element)
    {
        var cells = element.Table?.Cells.Count ?? 0;
        _count += 1 + cells;
        if (_count > maxElements)
        {
            throw new PipelineFailure(
                FailureCodes.TooManyElements,
                $"The {format} document has more than {maxElements} elements (paragraphs, headings, list items, table cells; Worker:Readers:MaxElements). Split it into smaller documents.");
        }

        return element;
    }
}
