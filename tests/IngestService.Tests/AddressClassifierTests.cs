using System.Net;
using IngestService.Sources;
using Microsoft.Extensions.Options;

namespace IngestService.Tests;

/// <summary>The SSRF rules of URL sources without a server: which addresses are public, the allow-list, the guard's DNS check (Req FMT-3).</summary>
public sealed class AddressClassifierTests
{
    [Theory]
    [Trait("Req", "FMT-3")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("0.1.2.3", "unspecified")]
    [InlineData("10.0.0.5", "private")]
    [InlineData("100.64.0.1", "carrier-grade NAT")]
    [InlineData("100.127.255.254", "carrier-grade NAT")]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("192.0.2.10", "documentation")]
    [InlineData("198.18.0.1", "benchmarking")]
    [InlineData("224.0.0.251", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("::", "unspecified")]
    [InlineData("::1", "loopback")]
    [InlineData("fc00::1", "unique-local")]
    [InlineData("fd12:3456::1", "unique-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fe80::1%2", "link-local")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("2001:db8::1", "documentation")]
    [InlineData("2001:0:4136:e378::1", "Teredo")]
    [InlineData("2002:a00:1::1", "6to4")]
    [InlineData("100::1", "non-global")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:10.0.0.5", "private")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("64:ff9b::a00:5", "private")]
    [InlineData("64:ff9b::7f00:1", "loopback")]
    public void Non_public_addresses_are_classified_with_what_they_are(string address, string kind)
    {
        var found = AddressClassifier.Classify(IPAddress.Parse(address));

        Assert.NotNull(found);
        Assert.Contains(kind, found.Kind, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Req", "FMT-3")]
    [InlineData("93.184.215.14")]
    [InlineData("1.1.1.1")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.0")]
    [InlineData("172.32.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a00:1450:4001:80b::200e")]
    [InlineData("::ffff:93.184.215.14")]
    [InlineData("64:ff9b::5db8:d70e")]
    public void Public_addresses_pass(string address)
    {
        Assert.Null(AddressClassifier.Classify(IPAddress.Parse(address)));
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public void The_description_names_the_address_and_its_range()
    {
        var address = IPAddress.Parse("10.0.0.5");

        Assert.Equal("a private address 10.0.0.5 (10.0.0.0/8)", AddressClassifier.Classify(address)!.Describe(address));
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public void The_allow_list_takes_names_addresses_and_ranges_and_maps_IPv4_in_IPv6()
    {
        var list = AllowList("files.internal.", "127.0.0.1", "10.1.0.0/16", "fd00::/8");

        Assert.True(list.AllowsName("FILES.internal"));
        Assert.False(list.AllowsName("other.internal"));
        Assert.True(list.AllowsAddress(IPAddress.Parse("127.0.0.1")));
        Assert.True(list.AllowsAddress(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.False(list.AllowsAddress(IPAddress.Parse("127.0.0.2")));
        Assert.True(list.AllowsAddress(IPAddress.Parse("10.1.200.3")));
        Assert.False(list.AllowsAddress(IPAddress.Parse("10.2.0.1")));
        Assert.True(list.AllowsAddress(IPAddress.Parse("fd00::5")));
        Assert.False(list.AllowsAddress(IPAddress.Parse("::1")));
    }

    [Theory]
    [Trait("Req", "SU-1")]
    [InlineData("10.0.0.0/33")]
    [InlineData("not a host")]
    [InlineData("")]
    [InlineData("http://example.com")]
    public void A_bad_allow_list_entry_is_named_at_start_up(string entry)
    {
        var message = SourceAllowList.Explain(["example.com", entry]);

        Assert.NotNull(message);
        Assert.Contains($"'{entry}'", message, StringComparison.Ordinal);
        Assert.Contains("Sources:AllowedHosts", message, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Req", "FMT-3")]
    [InlineData("http://localhost/x.pdf", "loopback")]
    [InlineData("http://[::1]/x.pdf", "loopback")]
    [InlineData("http://0.0.0.0/x.pdf", "unspecified")]
    [InlineData("http://2130706433/x.pdf", "loopback")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "link-local")]
    [InlineData("http://[::ffff:10.0.0.1]/x.pdf", "private")]
    public async Task The_guard_refuses_names_and_literals_that_lead_to_non_public_addresses(string url, string kind)
    {
        var guard = new SourceAddressGuard(AllowList());

        var refused = await Assert.ThrowsAsync<UrlRefusedException>(() => guard.VetAsync(new Uri(url), CancellationToken.None));

        Assert.Equal(UrlRefusalKind.Forbidden, refused.Refusal.Kind);
        Assert.Contains(kind, refused.Refusal.Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public async Task The_guard_lets_an_allowed_name_through_with_the_addresses_it_resolved()
    {
        var guard = new SourceAddressGuard(AllowList("localhost"));

        var vetted = await guard.VetAsync(new Uri("http://localhost:8080/x.pdf"), CancellationToken.None);

        Assert.NotEmpty(vetted.Addresses);
        Assert.All(vetted.Addresses, a => Assert.True(IPAddress.IsLoopback(a)));
        Assert.True(vetted.IsFor("LOCALHOST"));
    }

    [Fact]
    public async Task A_name_that_does_not_exist_is_a_fetch_failure_not_worth_retrying()
    {
        var guard = new SourceAddressGuard(AllowList());

        var refused = await Assert.ThrowsAsync<UrlRefusedException>(() => guard.VetAsync(new Uri("http://no-such-host.invalid/x.pdf"), CancellationToken.None));

        Assert.Equal(UrlRefusalKind.FetchFailed, refused.Refusal.Kind);
        Assert.Contains("no-such-host.invalid", refused.Refusal.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Req", "SEC-2")]
    [InlineData("https://bucket.example/a/report.pdf?X-Amz-Signature=s3cr3t&X-Amz-Expires=60#page=2",
        "https://bucket.example/a/report.pdf?X-Amz-Signature=redacted&X-Amz-Expires=redacted", "https://bucket.example/a/report.pdf?…")]
    [InlineData("https://example.com/doc.pdf", "https://example.com/doc.pdf", "https://example.com/doc.pdf")]
    [InlineData("https://example.com/get?flag", "https://example.com/get?flag", "https://example.com/get?…")]
    public void A_URL_is_kept_and_shown_without_its_query_values(string url, string recorded, string shown)
    {
        var uri = new Uri(url);

        Assert.Equal(recorded, SourceUrls.ForRecord(uri));
        Assert.Equal(shown, SourceUrls.ForMessage(uri));
    }

    private static SourceAllowList AllowList(params string[] entries) =>
        new(Options.Create(new SourceOptions { AllowedHosts = [.. entries] }));
}
