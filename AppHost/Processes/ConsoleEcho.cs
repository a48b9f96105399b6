namespace Suite.AppHost.Processes;

/// <summary>Child console lines on the AppHost's stdout, each prefixed with its replica: <c>[ingest-0] …</c>.</summary>
internal sealed class ConsoleEcho
{
    private readonly Lock _gate = new();

    public void Write(string instanceName, string line)
    {
        lock (_gate)
        {
            Console.Out.Write('[');
            Console.Out.Write(instanceName);
            Console.Out.Write("] ");
            Console.Out.WriteLine(line);
        }
    }
}
