using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>
/// The whole-document budget spans attempts (TMO-3): a document whose every attempt times out in one stage is not
/// retried until its deliveries run out, but fails with <c>timeout</c> once its attempts together used the budget.
/// </summary>
[Collection("pipeline-suite")]
public sealed class DocumentBudgetTests : IAsyncLifetime
{
    private const int BudgetSeconds = 12;
    private ChaosApp _app = null!;

    public async Task InitializeAsync() => _app = await ChaosApp.StartAsync(workers: 2, workerSettings: new Dictionary<string, string>
    {
        // Layout may take 3 s; every other stage keeps 10 s, which a loaded machine's fresh worker can meet.
        ["Worker__StageTimeoutSeconds"] = "10",
        ["Worker__StageTimeouts__layout"] = "3",
        ["Worker__DocumentBudgetSeconds"] = BudgetSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // Far more deliveries than the budget allows, so that only the budget can end the document.
        ["Worker__MaxDeliveries"] = "20",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    [Trait("Req", "TMO-3")]
    public async Task Attempts_that_each_time_out_end_the_document_as_timeout_once_together_they_used_its_budget()
    {
        var app = _app;
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.Layout, "slow", "budget-*.pdf", Seconds: 60));
        var id = await app.UploadAcceptedAsync(await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")), "budget-1.pdf");

        var document = await app.WaitForTerminalAsync(id, TimeSpan.FromMinutes(2));

        Assert.True(RunningSuite.Status(document) == DocumentStatus.Failed, $"{document}\n{app.Diagnostics()}");
        var error = document.GetProperty("error");
        Assert.Equal(DeliveryErrorCodes.Timeout, error.GetProperty("code").GetString());
        Assert.Contains($"budget of {BudgetSeconds} s, of which earlier attempts used", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Each attempt timed out in layout (about 3 s) and was released for a retry; a handful fit in the budget, far
        // fewer than the deliveries allowed. Under a per-attempt budget this document would have been retried 20 times.
        var history = await app.EventsAsync(id);
        var claims = history.Count(e => e.Kind == DocumentEventKinds.Claimed);
        Assert.InRange(claims, 2, 8);
        Assert.Contains(history, e => e.Kind == DocumentEventKinds.Released && e.Detail!.Contains("Stage layout did not finish within 3 s", StringComparison.Ordinal));
        Assert.DoesNotContain(history, e => e.Kind == DocumentEventKinds.Checkpoint && e.Stage == PipelineStageNames.Layout);
    }
}
