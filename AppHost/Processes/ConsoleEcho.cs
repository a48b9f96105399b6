using System.Text.Json;

namespace Suite.AppHost.Processes;

/// <summary>
/// Child console lines on the AppHost's stdout, each prefixed with its replica: <c>[ingest-0] …</c>.
/// The services log one JSON object a line (for machines); the echo shows the operator the short form
/// (time, level, category, message, exception) and keeps any other line as it is.
/// </summary>
internal sealed class ConsoleEcho
{
    private readonly Lock _gate = new();

    public void Write(string instanceName, string line)
    {
        var text = Humanize(line);
        lock (_gate)
        {
            Console.Out.Write('[');
            Console.Out.Write(instanceName);
            Console.Out.Write("] ");
            Console.Out.WriteLine(text);
        }
    }

    internal static string Humanize(string line)
    {
        if (!line.StartsWith("{\"Timestamp\"", StringComparison.Ordinal))
        {
            return line;
        }

        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var time = root.TryGetProperty("Timestamp", out var t) && t.GetString() is { Length: >= 19 } stamp ? stamp[11..19] : "";
            var level = root.TryGetProperty("LogLevel", out var l) ? ShortLevel(l.GetString()) : "";
            var category = root.TryGetProperty("Category", out var c) ? c.GetString() : "";
            var message = root.TryGetProperty("Message", out var m) ? m.GetString() : "";
            var exception = root.TryGetProperty("Exception", out var e) && e.GetString() is { Length: > 0 } ex
                ? " | " + ex.Split('\n', 2)[0].Trim()
                : "";
            return $"{time} {level}: {category} {message}{exception}";
        }
        catch (JsonException)
        {
            return line;
        }
    }

    private static string ShortLevel(string? level) => level switch
    {
        "Trace" => "trce",
        "Debug" => "dbug",
        "Information" => "info",
        "Warning" => "warn",
        "Error" => "fail",
        "Critical" => "crit",
        _ => level ?? "",
    };
}
