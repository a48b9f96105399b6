using System.Globalization;
using Suite.ServiceDefaults.Problems;

namespace IngestService.Batches;

/// <summary>The refusals of a whole batch (nothing stored); a single file's problem is in the batch's answer instead.</summary>
internal static class BatchProblems
{
    public static IResult TooManyFiles(int max) => ApiProblem.Result(400, "too_many_files", "Too many files in the batch",
        $"A batch may hold at most {max.ToString(CultureInfo.InvariantCulture)} files (Ingest:MaxBatchFiles); nothing was stored. " +
        "Split the files into several batches.",
        extensions: new Dictionary<string, object?> { ["field"] = "file", ["maxFiles"] = max });

    public static IResult TooLarge(long maxBytes) => ApiProblem.Result(413, "batch_too_large", "The batch is too large",
        $"A batch's body may be at most {maxBytes.ToString(CultureInfo.InvariantCulture)} bytes, all files together (Ingest:MaxBatchBytes); " +
        "nothing was stored. Split the files into several batches.",
        extensions: new Dictionary<string, object?> { ["maxBytes"] = maxBytes });

    public static IResult IdempotencyKeyUnsupported() => ApiProblem.Result(400, "idempotency_key_unsupported", "No Idempotency-Key on batches",
        "A batch upload does not take an Idempotency-Key: a retried batch would store its files again. Nothing was stored. " +
        "Send the batch without the header, or upload the files one by one (POST /api/documents) with a key each.",
        extensions: new Dictionary<string, object?> { ["header"] = "Idempotency-Key" });

    public static IResult BatchNotFound(string id) => ApiProblem.Result(404, "batch_not_found", "Batch not found",
        $"No batch has the id '{(id.Length <= 80 ? id : id[..80] + "...")}'. Use the batchId returned by POST /api/batches.");
}
