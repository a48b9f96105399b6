using System.Text.RegularExpressions;
using Suite.Testing;

namespace Gateway.Tests;

/// <summary>
/// docs/errors.md against the codes the code can emit, both ways: every problem code written by a service (with its
/// status) and every document error code is in the catalogue, and the catalogue lists nothing the code cannot emit.
/// </summary>
public sealed partial class ErrorCatalogueTests
{
    private static readonly string[] ServiceFolders = ["Gateway", "IngestService", "LabelingBridge", "PipelineWorker", "ServiceDefaults"];

    [Fact]
    [Trait("Req", "ERR-1")]
    public void Every_problem_code_the_services_can_answer_with_is_in_the_catalogue_with_its_status_and_nothing_else_is()
    {
        var emitted = ProblemCodesInSource();
        var documented = CatalogueRows();

        Assert.True(emitted.Count > 40, $"the scan found only {emitted.Count} codes; the patterns no longer match the code");
        var undocumented = emitted.Keys.Except(documented.Keys).Order().ToList();
        var stale = documented.Keys.Except(emitted.Keys).Order().ToList();
        Assert.True(undocumented.Count == 0, "codes missing from docs/errors.md: " + string.Join(", ", undocumented));
        Assert.True(stale.Count == 0, "docs/errors.md lists codes nothing emits: " + string.Join(", ", stale));
        foreach (var (code, status) in emitted.Where(e => e.Value is not null))
        {
            Assert.True(documented[code] == status, $"{code}: the code answers {status}, docs/errors.md says {documented[code]}");
        }
    }

    [Fact]
    [Trait("Req", "ERR-1")]
    public void Every_document_error_code_is_in_the_catalogue_and_nothing_else_is()
    {
        var emitted = DocumentCodesInSource();
        var documented = DocumentCatalogueCodes();

        Assert.True(emitted.Count >= 10, $"the scan found only {emitted.Count} document codes");
        Assert.Equal(emitted.Order(), documented.Order());
    }

    /// <summary>code → status (null where the status is not a literal at the call).</summary>
    private static Dictionary<string, int?> ProblemCodesInSource()
    {
        var codes = new Dictionary<string, int?>(StringComparer.Ordinal);
        foreach (var file in SourceFiles())
        {
            var text = File.ReadAllText(file);
            foreach (Match call in ProblemCall().Matches(text))
            {
                int? status = int.TryParse(call.Groups["status"].Value.Trim(), out var s) ? s : null;
                codes[call.Groups["code"].Value] = status;
            }

            foreach (Match choice in ConditionalCode().Matches(text))
            {
                codes.TryAdd(choice.Groups["a"].Value, null);
                codes.TryAdd(choice.Groups["b"].Value, null);
            }

            if (file.EndsWith("DocumentProxyExtensions.cs", StringComparison.Ordinal) || file.EndsWith("ApiProblem.cs", StringComparison.Ordinal))
            {
                foreach (Match tuple in StatusCodePair().Matches(text))
                {
                    codes[tuple.Groups["code"].Value] = int.Parse(tuple.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture);
                }

                // Codes held in constants (the forwarder's), paired with their status where the file pairs them.
                foreach (Match constant in StringConstant().Matches(text))
                {
                    codes.TryAdd(constant.Groups["value"].Value, null);
                }

                foreach (Match fallback in FallbackCode().Matches(text))
                {
                    codes.TryAdd(fallback.Groups["code"].Value, 500);
                }
            }
        }

        return codes;
    }

    private static HashSet<string> DocumentCodesInSource()
    {
        var codes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in SourceFiles())
        {
            var text = File.ReadAllText(file);
            foreach (Match type in DocumentCodeClass().Matches(text))
            {
                foreach (Match constant in StringConstant().Matches(type.Groups["body"].Value))
                {
                    codes.Add(constant.Groups["value"].Value);
                }
            }
        }

        return codes;
    }

    private static Dictionary<string, int> CatalogueRows()
    {
        var text = Catalogue();
        var apiPart = text[..text.IndexOf("## Document error codes", StringComparison.Ordinal)];
        return ProblemRow().Matches(apiPart).ToDictionary(m => m.Groups["code"].Value, m => int.Parse(m.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static HashSet<string> DocumentCatalogueCodes()
    {
        var text = Catalogue();
        var documentPart = text[text.IndexOf("## Document error codes", StringComparison.Ordinal)..];
        return DocumentRow().Matches(documentPart).Select(m => m.Groups["code"].Value).ToHashSet(StringComparer.Ordinal);
    }

    private static string Catalogue() => File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "docs", "errors.md"));

    private static IEnumerable<string> SourceFiles() =>
        ServiceFolders.SelectMany(folder => Directory.EnumerateFiles(Path.Combine(RepoPaths.RepoRoot, folder), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    [GeneratedRegex("""ApiProblem\.(?:Result|Create)\(\s*(?<status>[^,"]+),\s*"(?<code>[a-z][a-z0-9_]*)" """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex ProblemCall();

    [GeneratedRegex("""ApiProblem\.Create\([^;]*?\?\s*"(?<a>[a-z][a-z0-9_]*)"\s*:\s*"(?<b>[a-z][a-z0-9_]*)" """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex ConditionalCode();

    [GeneratedRegex("""(?:\(|^\s*)(?<status>[1-5][0-9]{2}),?\s*(?:=>\s*)?"(?<code>[a-z][a-z0-9_]*)" """, RegexOptions.Multiline | RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex StatusCodePair();

    [GeneratedRegex("""_\s+when\s+status\s*>=\s*500\s*=>\s*"(?<code>[a-z_]+)" """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex FallbackCode();

    [GeneratedRegex("""static\s+class\s+(?:FailureCodes|DeliveryErrorCodes)\s*\{(?<body>[^}]*)\}""")]
    private static partial Regex DocumentCodeClass();

    [GeneratedRegex("""const\s+string\s+\w+\s*=\s*"(?<value>[a-z_]+)";""")]
    private static partial Regex StringConstant();

    [GeneratedRegex("""^\|\s*`(?<code>[a-z][a-z0-9_]*)`\s*\|\s*(?<status>[1-5][0-9]{2})\s*\|""", RegexOptions.Multiline)]
    private static partial Regex ProblemRow();

    [GeneratedRegex("""^\|\s*`(?<code>[a-z][a-z0-9_]*)`\s*\|\s*[^0-9|]""", RegexOptions.Multiline)]
    private static partial Regex DocumentRow();
}
