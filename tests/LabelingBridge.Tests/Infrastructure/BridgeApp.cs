using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
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

    public Uri Url => new($"http://127.0.0.1:{Port}");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseEnvironment("Development");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public static int NextPort() => FreePort.Next();
}

/// <summary>Records the bridge's own metrics (meter Suite.LabelingBridge of one bridge instance only).</summary>
public sealed class MetricsProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, Dictionary<string, string?> Tags)> _measurements = new();

    public MetricsProbe(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == LabelingBridge.Telemetry.BridgeMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
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
