using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests;

/// <summary>
/// What the gateway keeps per caller stays bounded however many callers there are (Req PERF-3). Callers of the open
/// routes are told apart by their address (a test header sets it, as a reverse proxy's forwarded address would); the
/// metrics must not grow a series per address. In the telemetry collection: the scrape sees every gateway of the
/// process that shares the meter's name.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class CacheBoundsTests
{
    private const string RemoteHeader = "X-Test-Remote-Address";

    [Fact]
    [Trait("Req", "PERF-3")]
    public async Task Rate_limited_callers_from_many_addresses_are_counted_under_one_anonymous_series_not_one_per_address()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url], settings: new Dictionary<string, string>
        {
            ["Gateway:RateLimits:Requests:TokenLimit"] = "1",
            ["Gateway:RateLimits:Requests:TokensPerPeriod"] = "1",
            ["Gateway:RateLimits:Requests:PeriodSeconds"] = "3600",
        }).WithWebHostBuilder(web => web.ConfigureServices(services => services.AddSingleton<IStartupFilter, RemoteAddressFromHeader>()));
        using var anonymous = gateway.CreateClient();

        const int addresses = 40;
        for (var i = 0; i < addresses; i++)
        {
            // Each address has its own bucket of one: its first request passes, its second is refused.
            var address = "192.0.2." + (i + 1).ToString(CultureInfo.InvariantCulture);
            foreach (var expected in new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/documents/abc/pages/1/image", UriKind.Relative));
                request.Headers.Add(RemoteHeader, address);
                using var response = await anonymous.SendAsync(request);
                Assert.Equal(expected, response.StatusCode);
            }
        }

        using var keyed = gateway.CreateKeyedClient();
        var scrape = await keyed.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var series = scrape.Split('\n').Where(l => l.StartsWith("gateway_rate_limited", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(series, l => l.Contains("address:", StringComparison.Ordinal) || l.Contains("192.0.2.", StringComparison.Ordinal));
        var anonymousSeries = Assert.Single(series, l => l.Contains("suite_client=\"anonymous\"", StringComparison.Ordinal) && l.Contains("policy=\"requests\"", StringComparison.Ordinal));
        Assert.True(double.Parse(anonymousSeries[(anonymousSeries.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture) >= addresses, anonymousSeries);
    }

    /// <summary>Sets the connection's remote address from a request header (the test's stand-in for many callers).</summary>
    private sealed class RemoteAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                if (IPAddress.TryParse(context.Request.Headers[RemoteHeader].ToString(), out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }

                return following(context);
            });
            next(app);
        };
    }
}
