using System.Text;
using System.Text.RegularExpressions;
using NJsonSchema;
using Suite.Contracts;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>AcroForm fields through the real pipeline: names and values in the JSON result and every rendering.</summary>
public sealed partial class FormFieldTests : IDisposable
{
    private const string Form = "sf__libreoffice-form.pdf";

    // Render and OCR add nothing to form fields; the rest of the pipeline runs as in a worker.
    private readonly StagePipeline _pipeline = new(new Dictionary<string, string?> { ["Pipeline:Render:Enabled"] = "false", ["Pipeline:Ocr:Enabled"] = "false" });

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task The_fields_of_a_libreoffice_form_come_out_with_their_values_in_json_markdown_and_text()
    {
        // Read independently of PdfPig: the field dictionaries in the file's bytes (/T name, /V UTF-16 value), and
        // pdftotext, which prints the filled-in values from the widgets' appearances.
        var raw = RawTextFieldValues(RepoPaths.CorpusFile(Form));
        Assert.Equal("Alice", raw["First Name"]);
        Assert.Equal("Bob", raw["First Name_2"]);
        var printed = await PdfText.ExtractAsync(RepoPaths.CorpusFile(Form));
        Assert.Contains("Alice", printed, StringComparison.Ordinal);
        Assert.Contains("Bob", printed, StringComparison.Ordinal);

        var run = await _pipeline.RunAsync(Form);

        var fields = run.Result.FormFields.ToDictionary(f => f.Name);
        Assert.Equal(new ResultFormField("First Name", "Alice", FormFieldTypes.Text) { PageNumber = 1 }, fields["First Name"]);
        Assert.Equal(new ResultFormField("First Name_2", "Bob", FormFieldTypes.Text) { PageNumber = 1 }, fields["First Name_2"]);
        Assert.Equal(new ResultFormField("Last Name", "", FormFieldTypes.Text) { PageNumber = 1 }, fields["Last Name"]);
        // Unset buttons say so with the PDF's own state name; the choice field has nothing selected.
        Assert.Equal(new ResultFormField("gdpr", "Off", FormFieldTypes.Checkbox) { PageNumber = 1 }, fields["gdpr"]);
        Assert.Equal(new ResultFormField("female", "Off", FormFieldTypes.Radio) { PageNumber = 1 }, fields["female"]);
        Assert.Equal(new ResultFormField("Nationality", "", FormFieldTypes.Choice) { PageNumber = 1 }, fields["Nationality"]);
        Assert.Equal(8, run.Result.FormFields.Count);

        Assert.Contains("\n## Form fields\n\n| Field | Value |\n| --- | --- |\n", run.Markdown, StringComparison.Ordinal);
        Assert.Contains("| First Name | Alice |\n", run.Markdown, StringComparison.Ordinal);
        Assert.Contains("| First Name\\_2 | Bob |\n", run.Markdown, StringComparison.Ordinal);
        Assert.Contains("| Last Name |  |\n", run.Markdown, StringComparison.Ordinal);
        Assert.Contains("\nForm fields\n", run.Text, StringComparison.Ordinal);
        Assert.Contains("\nFirst Name: Alice\n", run.Text, StringComparison.Ordinal);
        Assert.Contains("\nFirst Name_2: Bob\n", run.Text, StringComparison.Ordinal);
        Assert.Contains("\nLast Name:\n", run.Text, StringComparison.Ordinal);
        Assert.Contains("<section class=\"form-fields\">\n<h2>Form fields</h2>", run.Html, StringComparison.Ordinal);
        Assert.Contains("<tr><td>First Name</td><td>Alice</td></tr>", run.Html, StringComparison.Ordinal);
        Assert.Contains("<tr><td>First Name_2</td><td>Bob</td></tr>", run.Html, StringComparison.Ordinal);
        Assert.True(run.Html.IndexOf("form-fields", StringComparison.Ordinal) < run.Html.IndexOf("</main>", StringComparison.Ordinal), "inside the document");

        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepoPaths.RepoRoot, "docs", "result.schema.json"));
        Assert.Empty(schema.Validate(run.Submission.Json));
    }

    [Fact]
    public async Task A_pdf_without_a_form_has_an_empty_list_and_no_form_section()
    {
        var run = await _pipeline.RunAsync("sf__minimal-document.pdf");

        Assert.Empty(run.Result.FormFields);
        Assert.Contains("\"formFields\":[]", run.Submission.Json, StringComparison.Ordinal);
        Assert.DoesNotContain("Form fields", run.Markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("Form fields", run.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("form-fields", run.Html, StringComparison.Ordinal);
    }

    /// <summary>Text fields' names and values straight from the file's field dictionaries (uncompressed in this file).</summary>
    private static Dictionary<string, string> RawTextFieldValues(string path)
    {
        var text = Encoding.Latin1.GetString(File.ReadAllBytes(path));
        return TextField().Matches(text).ToDictionary(
            m => m.Groups["name"].Value,
            m => Convert.FromHexString(m.Groups["hex"].Value) is { Length: > 2 } bytes ? Encoding.BigEndianUnicode.GetString(bytes, 2, bytes.Length - 2) : "");
    }

    [GeneratedRegex(@"/FT/Tx\s*/P \d+ 0 R\s*/T\((?<name>[^)]*)\)[^<>]*?/V\s*<(?<hex>[0-9A-Fa-f]*)>")]
    private static partial Regex TextField();
}
