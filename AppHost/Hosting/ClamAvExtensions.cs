using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>clamd (Debian's clamav-daemon) run as a process, with a connection string <c>tcp://127.0.0.1:port</c>.</summary>
public sealed class ClamAvResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    private EndpointReference? _endpoint;

    public EndpointReference PrimaryEndpoint => _endpoint ??= new EndpointReference(this, EndpointName);

    /// <summary>Where clamd.conf was written (under the resource's data folder).</summary>
    public string ConfigFile => Path.Combine(WorkingDirectory, "clamd.conf");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"tcp://{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");
}

public static class ClamAvExtensions
{
    /// <summary>The signatures shipped for the local topology (the EICAR test signature), under AppHost/ClamAv.</summary>
    public const string ShippedSignatures = "suite-test.ndb";

    /// <summary>clamd cannot scan a stream longer than 2 GiB - 1 bytes.</summary>
    public const long MaxScannableBytes = int.MaxValue - 1;

    private const long DefaultMaxUploadBytes = 100L * 1024 * 1024;

    /// <summary>
    /// In run mode <c>clamd</c> (from PATH, else /usr/sbin) with a clamd.conf written at every start into
    /// <c>&lt;data&gt;/clamav</c>: foreground, TCP on 127.0.0.1 at <c>Suite:ClamAvPort</c> or a free port, signatures from
    /// <c>Suite:ClamAvDatabaseDirectory</c> (freshclam's, e.g. /var/lib/clamav) or else a copy of the shipped
    /// AppHost/ClamAv/suite-test.ndb (signature databases cannot be downloaded here), stream and file limits at least
    /// <c>Ingest:MaxUploadBytes</c>; a health check that PINGs it over the clamd protocol; restarted when it crashes.
    /// With <c>ConnectionStrings:clamav</c> configured, and always in publish mode, a connection string to a clamd run
    /// elsewhere (with freshclam's databases) instead. Services read <c>ConnectionStrings__{name}</c> either way.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddClamAv(this IDistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ExecutionContext.IsPublishMode || !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(name)))
        {
            return builder.AddConnectionString(name);
        }

        var clamd = FindClamd();
        var dataDirectory = builder.DataPath("clamav");
        var port = builder.PortFromConfigurationOrFree("Suite:ClamAvPort");
        var databases = DatabaseDirectory(builder, dataDirectory);
        var limit = StreamLimit(builder.Configuration);
        var resource = new ClamAvResource(name, clamd, dataDirectory);
        WriteConfig(resource.ConfigFile, port, databases, limit);

        var healthCheckKey = name + "_ping";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new ClamdPingCheck(resource), HealthStatus.Unhealthy, tags: null, timeout: TimeSpan.FromSeconds(3)));

        return builder.AddResource(resource)
            .WithEndpoint(ClamAvResource.EndpointName, e =>
            {
                e.Port = port;
                e.TargetPort = port;
                e.UriScheme = "tcp";
                e.IsProxied = false;
            })
            .WithArgs("--config-file=" + resource.ConfigFile)
            .WithHealthCheck(healthCheckKey)
            .WithRestartOnCrash();
    }

    /// <summary>
    /// Points ingest at clamd, and hands it the AppHost's <c>Ingest:MaxUploadBytes</c> when set, so the upload limit and
    /// clamd's stream limit agree. It deliberately does not wait for clamd: ingest starts and takes uploads while the
    /// scanner is down (held as awaiting_scan, or refused, by its Scanner:WhenUnavailable policy).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithMalwareScanner(this IResourceBuilder<ProjectResource> ingest, IResourceBuilder<IResourceWithConnectionString> clamav)
    {
        ArgumentNullException.ThrowIfNull(ingest);
        ingest.WithReference(clamav);
        if (ingest.ApplicationBuilder.Configuration["Ingest:MaxUploadBytes"] is { Length: > 0 } limit)
        {
            ingest.WithEnvironment("Ingest__MaxUploadBytes", limit);
        }

        return ingest;
    }

    /// <summary>Freshclam's folder when configured (it must hold databases), else a folder with the shipped signatures.</summary>
    private static string DatabaseDirectory(IDistributedApplicationBuilder builder, string dataDirectory)
    {
        var configured = builder.Configuration["Suite:ClamAvDatabaseDirectory"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            if (!Directory.Exists(configured) || !Directory.EnumerateFiles(configured).Any(f => f.EndsWith(".cvd", StringComparison.Ordinal)
                    || f.EndsWith(".cld", StringComparison.Ordinal) || f.EndsWith(".ndb", StringComparison.Ordinal) || f.EndsWith(".hdb", StringComparison.Ordinal)))
            {
                throw new DistributedApplicationException(
                    $"Suite:ClamAvDatabaseDirectory is '{configured}', which holds no ClamAV database (.cvd, .cld, .ndb, .hdb). Run freshclam, or leave it unset for the shipped test signatures.");
            }

            return configured;
        }

        var shipped = Path.Combine(builder.AppHostDirectory, "ClamAv", ShippedSignatures);
        if (!File.Exists(shipped))
        {
            throw new DistributedApplicationException($"The shipped ClamAV signatures are missing: {shipped}.");
        }

        var databases = Path.Combine(dataDirectory, "db");
        Directory.CreateDirectory(databases);
        File.Copy(shipped, Path.Combine(databases, ShippedSignatures), overwrite: true);
        return databases;
    }

    /// <summary>The largest upload ingest accepts (its <c>Ingest:MaxUploadBytes</c>, given to the AppHost too); clamd must take it whole.</summary>
    internal static long StreamLimit(IConfiguration configuration)
    {
        var text = configuration["Ingest:MaxUploadBytes"];
        var limit = DefaultMaxUploadBytes;
        if (!string.IsNullOrWhiteSpace(text) && (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
        {
            throw new DistributedApplicationException($"Ingest:MaxUploadBytes is '{text}'; use a whole number of bytes.");
        }

        if (limit > MaxScannableBytes)
        {
            throw new DistributedApplicationException(
                $"Ingest:MaxUploadBytes is {limit} bytes, but clamd cannot scan more than {MaxScannableBytes} bytes (2 GiB). Lower the upload limit.");
        }

        return limit;
    }

    private static void WriteConfig(string path, int port, string databases, long limit)
    {
        var text = new StringBuilder()
            .AppendLine("# Written by the AppHost at every start (AppHost/Hosting/ClamAvExtensions.cs); edits are lost.")
            .AppendLine("Foreground yes")
            .AppendLine("TCPAddr 127.0.0.1")
            .AppendLine(CultureInfo.InvariantCulture, $"TCPSocket {port}")
            .AppendLine(CultureInfo.InvariantCulture, $"DatabaseDirectory {databases}")
            // Every accepted upload must fit whole: a longer stream is answered "size limit exceeded", a larger file skipped.
            .AppendLine(CultureInfo.InvariantCulture, $"StreamMaxLength {limit}")
            .AppendLine(CultureInfo.InvariantCulture, $"MaxFileSize {limit}")
            .AppendLine(CultureInfo.InvariantCulture, $"MaxScanSize {Math.Max(limit, 400L * 1024 * 1024)}")
            .AppendLine("LogTime yes")
            .ToString();
        File.WriteAllText(path, text);
    }

    /// <summary>clamd from PATH, else where Debian's clamav-daemon puts it (/usr/sbin is not on every user's PATH).</summary>
    private static string FindClamd()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "clamd"))
            .Append("/usr/sbin/clamd");
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new DistributedApplicationException(
                "clamd is not installed (on PATH or /usr/sbin). Install it with: sudo apt-get install -y clamav-daemon (or run bash .ci/prereqs)");
    }

    /// <summary>zPING over the clamd protocol: healthy when it answers PONG (its databases are loaded by then).</summary>
    private sealed class ClamdPingCheck(ClamAvResource clamav) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var endpoint = clamav.PrimaryEndpoint;
            if (!endpoint.IsAllocated)
            {
                return HealthCheckResult.Unhealthy("clamd has no allocated endpoint yet.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken);
                var stream = client.GetStream();
                await stream.WriteAsync("zPING\0"u8.ToArray(), cancellationToken);
                var buffer = new byte[64];
                var read = await stream.ReadAsync(buffer, cancellationToken);
                var reply = Encoding.ASCII.GetString(buffer, 0, read).TrimEnd('\0');
                return reply == "PONG"
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy("clamd answered PING with: " + reply);
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                return HealthCheckResult.Unhealthy("clamd is not accepting connections (still loading its databases?): " + ex.Message);
            }
        }
    }
}
