using Suite.AppHost.Processes;

namespace AppHost.Tests;

public sealed class ConsoleEchoTests
{
    [Fact]
    public void Json_log_lines_are_echoed_in_short_form_and_other_lines_unchanged()
    {
        const string json = """{"Timestamp":"2026-11-23T20:10:22.190Z ","EventId":16,"LogLevel":"Warning","Category":"Suite.Jobs","Message":"stage extract slow","Exception":"System.TimeoutException: late\n   at X.Y()"}""";

        Assert.Equal("20:10:22 warn: Suite.Jobs stage extract slow | System.TimeoutException: late", ConsoleEcho.Humanize(json));
        Assert.Equal("1:C 23 Nov 2026 Redis is starting", ConsoleEcho.Humanize("1:C 23 Nov 2026 Redis is starting"));
        Assert.Equal("{\"Timestamp\": broken", ConsoleEcho.Humanize("{\"Timestamp\": broken"));
    }
}
