namespace Suite.AppHost.Processes;

/// <summary>The last console lines of one replica, bounded so a chatty service cannot grow the AppHost.</summary>
internal sealed class LogBuffer(int capacity)
{
    private readonly Queue<string> _lines = new(capacity);
    private readonly Lock _gate = new();

    public void Add(string line)
    {
        lock (_gate)
        {
            if (_lines.Count == capacity)
            {
                _lines.Dequeue();
            }

            _lines.Enqueue(line);
        }
    }

    public IReadOnlyList<string> Tail(int count)
    {
        lock (_gate)
        {
            return _lines.Skip(Math.Max(0, _lines.Count - count)).ToList();
        }
    }

    public string Text()
    {
        lock (_gate)
        {
            return _lines.Count == 0 ? "" : string.Join('\n', _lines) + "\n";
        }
    }
}
