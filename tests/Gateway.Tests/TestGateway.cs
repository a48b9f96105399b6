using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Gateway.Tests;

/// <summary>The gateway in-process with its services at the given addresses and one known client key.</summary>
internal static class TestGateway
{
    public const string ClientName = "tests";
    public const string Key = "gateway-tests-key-7f3a";

    public static WebApplicationFactory<Program> Create(Uri[] ingest, Uri? bridge = null, IReadOnlyDictionary<string, string>? settings = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            for (var i = 0; i < ingest.Length; i++)
            {
                web.UseSetting($"services:ingest:http:{i}", ingest[i].ToString().TrimEnd('/'));
            }

            web.UseSetting("services:labeling-bridge:http:0", (bridge ?? ingest[0]).ToString().TrimEnd('/'));
            web.UseSetting("Gateway:ApiKeys:0:Name", ClientName);
            web.UseSetting("Gateway:ApiKeys:0:Key", Key);
            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            {
                web.UseSetting(key, value);
            }
        });

    /// <summary>A client that sends the test key.</summary>
    public static HttpClient CreateKeyedClient(this WebApplicationFactory<Program> gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        var client = gateway.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);
        return client;
    }
}
