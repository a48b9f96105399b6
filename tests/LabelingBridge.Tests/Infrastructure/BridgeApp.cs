using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Suite.Testing;

namespace LabelingBridge.Tests.Infrastructure;

/// <summary>The real LabelingBridge (its Program) on Kestrel at a loopback port, configured like the AppHost would.</summary>
public sealed class BridgeApp : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string?> _settings;

    public BridgeApp(IReadOnlyDictionary<string, string?> settings, int port)
    {
        _settings = settings;
        Port = port;
        UseKestrel(port);
    }

    public int Port { get; }

    /// <summary>Every log line the bridge wrote, formatted, with exceptions.</summary>
    public LogCapture Logs { get; } = new();

    public Uri Url => new($"http://127.0.0.1:{Port}");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseEnvironment("Development");
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(Logs));
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public static int NextPort() => FreePort.Next();
}

/// <summary>Records the bridge's own metrics (meters Suite.LabelingBridge and Suite.Resilience of one bridge instance only).</summary>
public sealed class MetricsProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, Dictionary<string, string?> Tags)> _measurements = new();

    public MetricsProbe(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name is LabelingBridge.Telemetry.BridgeMetrics.MeterName or Suite.ServiceDefaults.Resilience.ResilienceMetrics.MeterName
                && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public long Sum(string instrument, string? tag = null, string? value = null) =>
        _measurements.Where(m => m.Instrument == instrument && (tag is null || m.Tags.GetValueOrDefault(tag) == value)).Sum(m => m.Value);

    /// <summary>The current value of an observable gauge.</summary>
    public long? Gauge(string instrument)
    {
        var before = _measurements.Count;
        _listener.RecordObservableInstruments();
        var fresh = _measurements.Skip(before).Where(m => m.Instrument == instrument).ToList();
        return fresh.Count == 0 ? null : fresh.Max(m => m.Value);
    }

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dict = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            dict[tag.Key] = tag.Value?.ToString();
        }

        _measurements.Enqueue((instrument.Name, value, dict));
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>Collects the bridge's log output (all levels) so tests can check what it says and what it never says.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        private readonly AsyncLocal<string?> _scope = new();

        // Scopes are recorded too (the JSON console and OTLP export write them): a secret in a scope would leak as well.
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            var outer = _scope.Value;
            _scope.Value = outer + " => " + (state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : state.ToString());
            return new Restore(() => _scope.Value = outer);
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{structured}] {{{_scope.Value}}} {exception}");
        }

        private sealed class Restore(Action restore) : IDisposable
        {
            public void Dispose() => restore();
        }
    }
}
