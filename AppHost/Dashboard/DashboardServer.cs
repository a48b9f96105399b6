using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Suite.AppHost.Hosting;

namespace Suite.AppHost.Dashboard;

/// <summary>
/// The AppHost's dashboard on 127.0.0.1 (Kestrel): a page of resources, their state as JSON, each replica's
/// console lines, and an OTLP/HTTP receiver that every service exports its telemetry to.
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = true,
    };

    private readonly WebApplication _web;

    private DashboardServer(WebApplication web, Uri url, TelemetryCounters telemetry)
    {
        _web = web;
        Url = url;
        Telemetry = telemetry;
    }

    public Uri Url { get; }

    public TelemetryCounters Telemetry { get; }

    public static async Task<DashboardServer> StartAsync(DistributedApplication app, int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "Suite.AppHost.Dashboard",
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddSingleton<IHostLifetime, AppHostOwnedLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));

        var web = builder.Build();
        var telemetry = new TelemetryCounters();
        MapEndpoints(web, app, telemetry);
        try
        {
            await web.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            await web.DisposeAsync();
            throw new DistributedApplicationException(
                $"the dashboard cannot listen on 127.0.0.1:{port} ({ex.Message}). Choose another port with --Suite:DashboardPort=<port> (0 = any free port).", ex);
        }

        var url = new Uri(web.Urls.First());
        return new DashboardServer(web, url, telemetry);
    }

    public async ValueTask DisposeAsync()
    {
        await _web.StopAsync(CancellationToken.None);
        await _web.DisposeAsync();
    }

    private static void MapEndpoints(WebApplication web, DistributedApplication app, TelemetryCounters telemetry)
    {
        var page = LoadPage();
        web.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));
        web.MapGet("/api/resources", () => Results.Json(app.GetStatus(), Json));
        web.MapGet("/api/telemetry", () => Results.Json(telemetry.Snapshot(), Json));
        web.MapGet("/api/resources/{name}/{replica:int}/logs", (string name, int replica) =>
            app.FindLogs(name, replica) is { } logs
                ? Results.Text(logs.Text(), "text/plain; charset=utf-8")
                : Results.Problem(
                    statusCode: StatusCodes.Status404NotFound,
                    title: "No such replica",
                    detail: $"There is no replica {replica} of a resource named '{name}'. GET /api/resources lists them.",
                    extensions: new Dictionary<string, object?> { ["code"] = "replica_not_found", ["retryable"] = false }));

        // OTLP/HTTP: POST /v1/traces, /v1/metrics, /v1/logs. An empty body is a valid empty Export*ServiceResponse.
        web.MapPost("/v1/{signal}", async (string signal, HttpRequest request, CancellationToken cancellationToken) =>
        {
            if (!telemetry.IsSignal(signal))
            {
                return Results.Problem(
                    statusCode: StatusCodes.Status404NotFound,
                    title: "Unknown OTLP signal",
                    detail: $"'{signal}' is not an OTLP signal; POST to /v1/traces, /v1/metrics or /v1/logs.",
                    extensions: new Dictionary<string, object?> { ["code"] = "otlp_signal_unknown", ["retryable"] = false });
            }

            telemetry.Record(signal, await CountBytesAsync(request.Body, cancellationToken));
            return request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true
                ? Results.Text("{}", "application/json")
                : Results.Bytes([], "application/x-protobuf");
        });
    }

    private static async Task<long> CountBytesAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static string LoadPage()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Suite.AppHost.Dashboard.index.html")
            ?? throw new InvalidOperationException("The dashboard page is not embedded in the AppHost assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
