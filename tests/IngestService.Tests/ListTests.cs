using System.Net;

namespace IngestService.Tests;

[Collection("ingest")]
public sealed class ListTests(IngestFixture fixture)
{
    private HttpClient Client => fixture.Client;

    [Fact]
    [Trait("Req", "IN-7")]
    public async Task Pages_of_ten_walk_all_documents_newest_first_without_duplicates()
    {
        var uploaded = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            uploaded.Add(await Api.UploadOkAsync(Client, Api.MinimalPdf, $"page-test-{i}.pdf"));
        }

        var seen = new List<string>();
        var createdAts = new List<DateTimeOffset>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var uri = "/api/documents?limit=10" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var response = await Client.GetAsync(uri);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await Api.JsonAsync(response);
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.InRange(items.Count, 1, 10);
            Assert.All(items, item => Assert.False(item.TryGetProperty("stages", out _)));
            seen.AddRange(items.Select(i => i.GetProperty("id").GetString()!));
            createdAts.AddRange(items.Select(i => i.GetProperty("createdAt").GetDateTimeOffset()));
            cursor = page.GetProperty("nextCursor").GetString();
            Assert.True(++pages < 100, "pagination does not end");
        }
        while (cursor is not null);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.All(uploaded, id => Assert.Contains(id, seen));
        // Newest first, and our uploads (the newest ones) in reverse upload order.
        Assert.Equal(createdAts.OrderByDescending(c => c), createdAts);
        Assert.Equal(Enumerable.Reverse(uploaded), seen.Where(uploaded.Contains));
    }

    [Fact]
    [Trait("Req", "IN-7")]
    public async Task Without_a_limit_the_default_page_size_applies()
    {
        for (var i = 0; i < 21; i++)
        {
            await Api.UploadOkAsync(Client, Api.MinimalPdf, $"default-{i}.pdf");
        }

        using var response = await Client.GetAsync("/api/documents");
        var page = await Api.JsonAsync(response);
        Assert.Equal(20, page.GetProperty("items").GetArrayLength());
        Assert.NotNull(page.GetProperty("nextCursor").GetString());
    }

    [Theory]
    [Trait("Req", "IN-7")]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("")]
    public async Task A_limit_outside_1_to_the_maximum_is_400_invalid_limit(string limit)
    {
        using var response = await Client.GetAsync("/api/documents?limit=" + limit);
        var problem = await Api.AssertProblemAsync(response, 400, "invalid_limit");
        Assert.Equal("limit", problem.GetProperty("parameter").GetString());
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("MjAyNS0wMS0wMVQwMDowMDowMC4wMDAwMDAwWnxub3QtYW4taWQ")]
    [InlineData("%27%3B%20DROP%20TABLE%20documents%3B--")]
    public async Task A_cursor_this_service_did_not_issue_is_400_invalid_cursor(string cursor)
    {
        using var response = await Client.GetAsync("/api/documents?cursor=" + cursor);
        var problem = await Api.AssertProblemAsync(response, 400, "invalid_cursor");
        Assert.Equal("cursor", problem.GetProperty("parameter").GetString());
    }
}
