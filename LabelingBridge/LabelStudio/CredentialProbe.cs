using LabelingBridge.Configuration;
using Microsoft.Extensions.Options;

namespace LabelingBridge.LabelStudio;

/// <summary>
/// Checks the credentials once at start-up and then, while Label Studio rejects them, once per
/// <see cref="LabelStudioOptions.CredentialProbeIntervalSeconds"/>: the only traffic Label Studio sees until the key
/// works again (DEG-2).
/// </summary>
internal sealed partial class CredentialProbe(
    LabelStudioApi api, CredentialState credentials, IOptions<LabelStudioOptions> options, TimeProvider time, ILogger<CredentialProbe> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        await ProbeAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.CredentialProbeInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (credentials.IsRejected)
                {
                    await ProbeAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProbeAsync(CancellationToken stoppingToken)
    {
        try
        {
            await api.ProbeAsync(stoppingToken);
        }
        catch (LabelStudioException ex)
        {
            LogProbeFailed(logger, ex.Error.Code, ex.Error.Message);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Label Studio credential probe failed with {ErrorCode}: {Reason}")]
    private static partial void LogProbeFailed(ILogger logger, string errorCode, string reason);
}
