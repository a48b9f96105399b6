using Suite.Contracts;

namespace Suite.Chunking;

/// <summary>A block (or one table row of it) that text of a chunk came from.</summary>
internal sealed record ChunkSource(string BlockId, int Page, BoundingBox Box)
{
    public ChunkBox ToBox() => new(BlockId, Page, Box.Left, Box.Bottom, Box.Right, Box.Top);

    /// <summary>The sources of several pieces, one per block and page, boxes of the same block and page united.</summary>
    public static IReadOnlyList<ChunkSource> Unite(IEnumerable<ChunkSource> sources)
    {
        var united = new List<ChunkSource>();
        foreach (var source in sources)
        {
            var index = united.FindIndex(s => s.BlockId == source.BlockId && s.Page == source.Page);
            if (index < 0)
            {
                united.Add(source);
            }
            else
            {
                var box = united[index].Box;
                united[index] = source with
                {
                    Box = new BoundingBox(Math.Min(box.Left, source.Box.Left), Math.Min(box.Bottom, source.Box.Bottom),
                        Math.Max(box.Right, source.Box.Right), Math.Max(box.Top, source.Box.Top)),
                };
            }
        }

        return united;
    }
}
