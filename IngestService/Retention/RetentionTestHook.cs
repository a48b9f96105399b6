using Microsoft.Extensions.Options;

namespace IngestService.Retention;

/// <summary>
/// The chaos tests' window between a tombstone and the removal of its files (<c>Retention:TestPauseAfterTombstoneMs</c>),
/// so that a kill -9 lands exactly there. Impossible to turn on by accident, like the workers' fault injection: it also
/// needs the environment variable <c>SUITE_ALLOW_FAULT_INJECTION=1</c> and an environment other than Production
/// (start-up refuses the setting otherwise).
/// </summary>
internal sealed partial class RetentionTestHook(IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionTestHook> logger)
{
    public const string AllowVariable = "SUITE_ALLOW_FAULT_INJECTION";

    public static bool Allowed(IHostEnvironment environment) =>
        Environment.GetEnvironmentVariable(AllowVariable) == "1" && !environment.IsProduction();

    public async Task PauseAfterTombstoneAsync(string documentId, CancellationToken cancellationToken)
    {
        var pause = options.Value.TestPauseAfterTombstoneMs;
        if (pause > 0)
        {
            LogPausing(documentId, pause);
            await Task.Delay(TimeSpan.FromMilliseconds(pause), time, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Test hook: pausing {PauseMs} ms after the tombstone of {DocumentId}, before its files are removed")]
    private partial void LogPausing(string documentId, int pauseMs);
}
