namespace Suite.AppHost.Processes;

/// <summary>
/// Delay before restarting a crashed process: 1 s, 2 s, 4 s … capped at 30 s, back to 1 s once a run
/// stayed healthy for 60 s (a crash loop slows down; an occasional crash restarts fast).
/// </summary>
internal sealed class RestartBackoff
{
    public static readonly TimeSpan Initial = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Cap = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan ResetAfterHealthy = TimeSpan.FromSeconds(60);

    private int _attempt;

    /// <param name="healthyRunTime">How long the run that just ended was continuously healthy.</param>
    public TimeSpan Next(TimeSpan healthyRunTime)
    {
        if (healthyRunTime >= ResetAfterHealthy)
        {
            _attempt = 0;
        }

        var delay = Initial * Math.Pow(2, Math.Min(_attempt, 16));
        _attempt++;
        return delay < Cap ? delay : Cap;
    }
}
