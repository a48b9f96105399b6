using System.Globalization;
using Suite.ServiceDefaults.Problems;

namespace IngestService.Retention;

/// <summary>The answers about a document that is gone: 410, with why and when (Req OUT-2, ERR-1).</summary>
internal static class RetentionProblems
{
    public static IResult Gone(Tombstone tombstone)
    {
        ArgumentNullException.ThrowIfNull(tombstone);
        var when = tombstone.DeletedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var extensions = new Dictionary<string, object?>
        {
            ["documentId"] = tombstone.Id,
            ["fileName"] = tombstone.FileName,
            ["deletedAt"] = tombstone.DeletedAt,
            ["reason"] = tombstone.Reason,
        };
        return tombstone.Reason == Tombstone.Expired
            ? ApiProblem.Result(410, "document_expired", "Document expired",
                $"Document {tombstone.Id} ('{tombstone.FileName}') passed its retention period and was removed at {when}, with its " +
                "result, pages, pictures and events. Upload the file again to process it again (with a longer retainFor if you need it kept).",
                extensions: extensions)
            : ApiProblem.Result(410, "document_deleted", "Document deleted",
                $"Document {tombstone.Id} ('{tombstone.FileName}') was deleted by a DELETE request at {when}, with its result, pages, " +
                "pictures and events. Upload the file again to process it again.",
                extensions: extensions);
    }
}
