using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using UglyToad.PdfPig;
using UglyToad.PdfPig.AcroForms.Fields;
using UglyToad.PdfPig.Tokens;

namespace Suite.PipelineWorker.Pdf;

/// <summary>
/// The AcroForm fields of a document with their values as text, read with PdfPig's form API. Names are full names
/// (parents' partial names joined with "."). Text fields give their text, choice fields their selected options
/// (joined with ", "), checkboxes and radio groups the state name the PDF stores ("Off" when unchecked or nothing is
/// chosen). Push buttons carry no value and are left out. A form PdfPig cannot read gives no fields: the page text is
/// what matters, and the form is extra.
/// </summary>
internal static class FormFieldReader
{
    /// <summary>Bounds what a hostile form can make us hold and render.</summary>
    private const int MaxFields = 10_000;
    private const int MaxDepth = 32;
    private const string Off = "Off";

    public static IReadOnlyList<ExtractedFormField> Read(PdfDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var fields = new List<ExtractedFormField>();
        try
        {
            if (document.TryGetForm(out var form))
            {
                foreach (var field in form.Fields)
                {
                    Collect(field, null, fields, 0);
                }
            }
        }
        catch (Exception ex) when (PdfOpening.IsParseError(ex))
        {
            return [];
        }

        return fields;
    }

    private static void Collect(AcroFieldBase field, string? parent, List<ExtractedFormField> fields, int depth)
    {
        if (fields.Count >= MaxFields || depth > MaxDepth)
        {
            return;
        }

        var partial = field.Information.PartialName;
        var name = string.IsNullOrEmpty(partial) ? parent ?? "" : parent is null ? partial : parent + "." + partial;
        switch (field)
        {
            case AcroTextField text:
                fields.Add(new ExtractedFormField(name, Clean(text.Value), FormFieldTypes.Text, field.PageNumber));
                break;
            case AcroCheckboxField checkbox:
                fields.Add(new ExtractedFormField(name, checkbox.IsChecked ? checkbox.CurrentValue?.Data ?? "Yes" : Off, FormFieldTypes.Checkbox, field.PageNumber));
                break;
            case AcroRadioButtonsField or AcroCheckboxesField:
                // The group holds the chosen state (/V); its kids are the widgets. PdfPig 0.1.16 reports kids as selected
                // when they are not, so the group's own value is the one to trust.
                var kids = ((AcroNonTerminalField)field).Children;
                fields.Add(new ExtractedFormField(
                    name,
                    StateName(field.Dictionary) ?? Off,
                    field is AcroRadioButtonsField ? FormFieldTypes.Radio : FormFieldTypes.Checkbox,
                    field.PageNumber ?? kids.Select(k => k.PageNumber).FirstOrDefault(p => p is not null)));
                break;
            case AcroComboBoxField combo:
                fields.Add(new ExtractedFormField(name, Clean(string.Join(", ", combo.SelectedOptions)), FormFieldTypes.Choice, field.PageNumber));
                break;
            case AcroListBoxField list:
                fields.Add(new ExtractedFormField(name, Clean(string.Join(", ", list.SelectedOptions)), FormFieldTypes.Choice, field.PageNumber));
                break;
            case AcroSignatureField:
                fields.Add(new ExtractedFormField(name, field.Dictionary.Data.ContainsKey("V") ? "signed" : "", FormFieldTypes.Signature, field.PageNumber));
                break;
            case AcroNonTerminalField parentField:
                foreach (var child in parentField.Children)
                {
                    Collect(child, name, fields, depth + 1);
                }

                break;
        }
    }

    /// <summary>The field's /V when it is a name (a button's state), else null.</summary>
    private static string? StateName(DictionaryToken dictionary) =>
        dictionary.Data.TryGetValue("V", out var value) && value is NameToken state ? state.Data : null;

    /// <summary>Multi-line text keeps its line breaks (as \n); control characters (NULs from sloppy writers) are dropped.</summary>
    private static string Clean(string? value) =>
        value is null ? "" : string.Join('\n', value.ReplaceLineEndings("\n").Split('\n').Select(ExtractStage.CleanText));
}
