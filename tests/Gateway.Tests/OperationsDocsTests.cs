using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Suite.Testing;

namespace Gateway.Tests;

/// <summary>
/// The alert rules, their runbooks and the SLOs, checked with the real promtool (Debian's prometheus package, installed
/// by .ci/prereqs): the rules load and pass their unit tests, the required alerts exist with a runbook each, and every
/// SLO measurement is PromQL that Prometheus parses.
/// </summary>
public sealed partial class OperationsDocsTests
{
    private static readonly string Operations = Path.Combine(RepoPaths.RepoRoot, "docs", "operations");

    [Fact]
    [Trait("Req", "OBS-6")]
    public async Task Alert_rules_load_pass_their_unit_tests_and_each_alert_has_a_runbook_saying_what_it_means_and_what_to_do()
    {
        await PromtoolAsync(Operations, "check", "rules", "prometheus-alerts.yml");
        await PromtoolAsync(Operations, "test", "rules", "prometheus-alerts.test.yml");

        var rules = await File.ReadAllTextAsync(Path.Combine(Operations, "prometheus-alerts.yml"));
        var alerts = AlertPattern().Matches(rules).Select(m => m.Groups[1].Value).ToList();
        // Error rate, latency, open breakers, queue depth and age, dead letters, database errors, a service down.
        Assert.Superset(
            new HashSet<string> { "SuiteHighErrorRate", "SuiteHighLatency", "SuiteCircuitBreakerOpen", "SuiteQueueBacklog", "SuiteQueueJobTooOld", "SuiteJobsDeadLettered", "SuiteDatabaseErrors", "SuiteServiceDown" },
            alerts.ToHashSet());
        foreach (var alert in alerts)
        {
            Assert.Contains($"runbook_url: docs/runbooks/{alert}.md", rules, StringComparison.Ordinal);
            var runbook = await File.ReadAllTextAsync(Path.Combine(RepoPaths.RepoRoot, "docs", "runbooks", alert + ".md"));
            Assert.Contains("**What it means.**", runbook, StringComparison.Ordinal);
            Assert.Contains("**How to confirm.**", runbook, StringComparison.Ordinal);
            Assert.Contains("**What to do.**", runbook, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Req", "OBS-7")]
    public async Task Every_SLO_has_a_measurement_that_Prometheus_parses()
    {
        var slo = await File.ReadAllLinesAsync(Path.Combine(RepoPaths.RepoRoot, "docs", "slo.md"));
        var measurements = slo
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| objective", StringComparison.Ordinal) && !l.StartsWith("| ---", StringComparison.Ordinal))
            .Select(l => MeasurementPattern().Match(l))
            .ToList();
        Assert.True(measurements.Count >= 5, "docs/slo.md lists the objectives in a table");
        Assert.All(measurements, m => Assert.True(m.Success, "every objective has a PromQL measurement in its last column"));

        // As recording rules, promtool parses each expression.
        var file = new StringBuilder("groups:\n  - name: slo\n    rules:\n");
        for (var i = 0; i < measurements.Count; i++)
        {
            var expr = measurements[i].Groups[1].Value.Replace("\\|", "|", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal);
            file.Append(System.Globalization.CultureInfo.InvariantCulture, $"      - record: slo:measurement_{i}\n        expr: '{expr}'\n");
        }

        var dir = Directory.CreateTempSubdirectory("slo-rules-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "slo.yml"), file.ToString());
            await PromtoolAsync(dir.FullName, "check", "rules", "slo.yml");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task PromtoolAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("promtool") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start (install Debian's prometheus package: bash .ci/prereqs)");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"promtool {string.Join(' ', arguments)} failed:\n{await output}\n{await error}");
    }

    [GeneratedRegex(@"^\s*- alert: (\S+)", RegexOptions.Multiline)]
    private static partial Regex AlertPattern();

    // The last column of a table row, a PromQL expression in backticks.
    [GeneratedRegex(@"\| `([^`]+)` \|\s*$")]
    private static partial Regex MeasurementPattern();
}
