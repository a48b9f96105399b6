using AngleSharp.Html.Dom;
using AngleSharp.Html.Dom.Events;
using AngleSharp.Html.Parser;

namespace PipelineWorker.Tests;

/// <summary>
/// Parses an HTML rendering with AngleSharp's HTML5 parser and collects every parse error it reports (the parser
/// recovers from each, so a page can look fine in a browser and still be invalid: the errors are what is checked).
/// </summary>
internal static class Html5
{
    public static IHtmlDocument Parse(string html, out IReadOnlyList<string> errors)
    {
        var found = new List<string>();
        var parser = new HtmlParser();
        parser.Error += (_, e) =>
        {
            if (e is HtmlErrorEvent error)
            {
                found.Add($"{error.Position.Line}:{error.Position.Column} {error.Message}");
            }
        };
        var document = parser.ParseDocument(html);
        errors = found;
        return document;
    }

    /// <summary>Parses and asserts that the parser reported no error and that the page is a full HTML5 document.</summary>
    public static IHtmlDocument ParseValid(string html)
    {
        var document = Parse(html, out var errors);
        Assert.True(errors.Count == 0, "HTML5 parse errors:\n" + string.Join('\n', errors.Take(20)));
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Equal("html", document.Doctype?.Name);
        Assert.False(string.IsNullOrEmpty(document.DocumentElement.GetAttribute("lang")));
        Assert.Equal("utf-8", document.CharacterSet, ignoreCase: true);
        Assert.Single(document.QuerySelectorAll("head meta[charset]"));
        Assert.False(string.IsNullOrWhiteSpace(document.Title));
        // Self-contained and inert: nothing runs, nothing is loaded from elsewhere.
        Assert.Empty(document.QuerySelectorAll("script, iframe, object, embed, link, base"));
        Assert.All(document.QuerySelectorAll("[src], [href]"), e =>
            Assert.StartsWith("/api/documents/", e.GetAttribute("src") ?? e.GetAttribute("href"), StringComparison.Ordinal));
        Assert.All(document.All, e => Assert.DoesNotContain(e.Attributes, a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)));
        return document;
    }
}
