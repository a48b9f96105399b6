using IngestService.Api;
using IngestService.Events;
using Microsoft.AspNetCore.Mvc;
using Suite.Contracts;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The workers' page progress report (<see cref="InternalApi.StageProgress"/>), lease-fenced like every worker write:
/// 204 whether or not it became an event (the rate and count bounds, or a stage no longer running, skip it; header
/// <c>X-Progress-Recorded</c> says which).
/// </summary>
internal static class ProgressEndpoints
{
    public const string RecordedHeader = "X-Progress-Recorded";

    public static WebApplication MapProgressEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost(InternalApi.Prefix + "/documents/{id}/stages/{stage}/progress", ReportAsync)
            .AddEndpointFilter<StorageFailureFilter>()
            .WithTags("internal");
        return app;
    }

    private static async Task<IResult> ReportAsync(string id, string stage, HttpContext http, [FromServices] EventCatalog catalog)
    {
        if (WorkerEndpoints.Validate(id, stage, http, out var lease) is { } invalid)
        {
            return invalid;
        }

        var (report, problem) = await WorkerEndpoints.ReadJsonAsync<PageProgressReport>(
            http, "a PageProgressReport JSON object { \"page\": n, \"pages\": m }", 16 * 1024);
        if (problem is not null)
        {
            return problem;
        }

        if (report!.Pages < 1 || report.Page < 1 || report.Page > report.Pages)
        {
            return EventProblems.InvalidProgress($"page {report.Page} of {report.Pages}");
        }

        var detail = report.Detail is { Length: > ProgressEventWriter.MaxDetail } full ? full[..ProgressEventWriter.MaxDetail] : report.Detail;
        var (outcome, recorded) = await catalog.RecordPageProgressAsync(id, lease, stage, report.Page, report.Pages, detail, http.RequestAborted);
        return WorkerEndpoints.Answer(outcome, id, http, () =>
        {
            http.Response.Headers[RecordedHeader] = recorded ? "true" : "false";
            return TypedResults.NoContent();
        });
    }
}
