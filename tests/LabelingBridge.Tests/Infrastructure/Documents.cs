using Suite.Contracts;

namespace LabelingBridge.Tests.Infrastructure;

/// <summary>Document results as the pipeline writes them (PDF points, bottom-left origin).</summary>
public static class Documents
{
    public const double LetterWidth = 612;
    public const double LetterHeight = 792;

    /// <summary>A result of <paramref name="pages"/> Letter pages, each with a title, a paragraph and a table.</summary>
    public static DocumentResult Result(string id, int pages = 2)
    {
        var list = new List<ResultPage>();
        for (var n = 1; n <= pages; n++)
        {
            list.Add(new ResultPage(n, LetterWidth, LetterHeight,
            [
                new ResultBlock($"p{n}-b1", n, "title", "Title " + n, new BoundingBox(72, 700, 540, 740)),
                new ResultBlock($"p{n}-b2", n, "paragraph", "Body text", new BoundingBox(72, 400, 540, 680)),
                new ResultBlock($"p{n}-b3", n, "table", "a | b", new BoundingBox(100, 100, 500, 380)),
            ]));
        }

        return new DocumentResult
        {
            DocumentId = id,
            FileName = id + ".pdf",
            PageCount = pages,
            Pages = list,
            ReadingOrder = list.SelectMany(p => p.Blocks).Select(b => b.Id).ToList(),
            Stages = [new StageOutcome("assemble", StageOutcome.Ok)],
        };
    }

    public static string NewId() => "doc" + Guid.NewGuid().ToString("N")[..12];
}
