namespace LabelStudioEmulator.Faults;

/// <summary>One request the emulator received (control endpoints excluded).</summary>
public sealed class RecordedRequest(DateTimeOffset at, string method, string path, string query, string? authScheme)
{
    public DateTimeOffset At { get; } = at;
    public string Method { get; } = method;
    public string Path { get; } = path;
    public string Query { get; } = query;
    public string? AuthScheme { get; } = authScheme;
    public int Status { get; internal set; }
    public DateTimeOffset? CompletedAt { get; internal set; }

    public override string ToString() => $"{At:HH:mm:ss.fff} {Method} {Path}{Query} -> {Status}";
}

/// <summary>Every request the emulator saw, with how many were in flight at once.</summary>
public sealed class RequestLog
{
    private readonly List<RecordedRequest> _requests = [];
    private readonly Lock _gate = new();
    private int _inFlight;
    private int _maxInFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _requests.Count;
            }
        }
    }

    public IReadOnlyList<RecordedRequest> Snapshot()
    {
        lock (_gate)
        {
            return [.. _requests];
        }
    }

    public IReadOnlyList<RecordedRequest> Since(DateTimeOffset at)
    {
        lock (_gate)
        {
            return _requests.Where(r => r.At >= at).ToList();
        }
    }

    public void ResetMaxInFlight() => Volatile.Write(ref _maxInFlight, Volatile.Read(ref _inFlight));

    internal RecordedRequest Begin(DateTimeOffset at, HttpRequest request)
    {
        var auth = request.Headers.Authorization.ToString();
        var scheme = string.IsNullOrEmpty(auth) ? null : auth.Split(' ', 2)[0];
        var record = new RecordedRequest(at, request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", scheme);
        lock (_gate)
        {
            _requests.Add(record);
        }

        var now = Interlocked.Increment(ref _inFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
        {
        }

        return record;
    }

    internal static void End(RecordedRequest record, int status, DateTimeOffset at)
    {
        record.Status = status;
        record.CompletedAt = at;
    }

    internal void Leave() => Interlocked.Decrement(ref _inFlight);
}
