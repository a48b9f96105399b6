using System.Diagnostics;

namespace Suite.Testing;

/// <summary>Bounded polling for a condition: never sleep-and-hope.</summary>
public static class Eventually
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var step = interval ?? TimeSpan.FromMilliseconds(100);
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                last = ex;
            }

            await Task.Delay(step);
        }

        throw new TimeoutException($"Condition not met within {timeout.TotalSeconds:F0} s: {what}" + (last is null ? "" : $" (last error: {last.Message})"), last);
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, TimeSpan? interval = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, interval);

    /// <summary>Polls until <paramref name="probe"/> returns a non-null value and returns it.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        T? value = null;
        await UntilAsync(async () => (value = await probe()) is not null, timeout, what);
        return value!;
    }
}
