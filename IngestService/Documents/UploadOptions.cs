using IngestService.Api;
using IngestService.Ocr;
using IngestService.Webhooks;
using IngestService.Retention;
using Suite.Contracts;

namespace IngestService.Documents;

/// <summary>
/// The pipeline options of an upload (Req FMT-4, ERR-3), from its multipart form fields or the members of its URL
/// upload's JSON body beside <c>url</c> and <c>fileName</c>: names matched without case, each at most once, values as
/// text. A field that is no option is 400 <c>unknown_option</c>, a value an option cannot take 400 <c>invalid_option</c>,
/// both naming the field, before anything is stored. <c>ocrLanguages</c> must name languages the workers have
/// (<see cref="OcrLanguages"/>). Beside the pipeline options the upload's <c>callbackUrl</c> (its completion webhook, not a
/// pipeline option: not part of the document's options) is read and checked here too (<see cref="CallbackUrlCheck"/>).
/// </summary>
internal sealed class UploadOptions(OcrLanguages languages, CallbackUrlCheck callbacks)
{
    /// <summary>Every field an upload may carry beside its file (or url and fileName): the pipeline options, callbackUrl and retainFor.</summary>
    public static readonly IReadOnlyList<string> Fields = [.. DocumentOptions.Fields, CallbackUrlCheck.Field, RetentionPeriod.Field];

    /// <summary>No option's value is longer (a page range of 100 items fits).</summary>
    public const int MaxValueLength = 1024;

    /// <summary>At most this many languages in one request (each makes tesseract slower).</summary>
    private const int MaxLanguages = 8;

    /// <summary>The option's name as this service spells it, or null when <paramref name="field"/> is no option.</summary>
    public static string? OptionName(string field) =>
        Fields.FirstOrDefault(name => name.Equals(field, StringComparison.OrdinalIgnoreCase));

    /// <summary>The upload's callbackUrl (trimmed), or null; call after <see cref="ReadAsync"/> accepted the fields.</summary>
    public static string? CallbackUrlOf(IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return fields.Where(f => f.Key.Equals(CallbackUrlCheck.Field, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value.Trim()).FirstOrDefault();
    }

    /// <summary>
    /// The raw <c>retainFor</c> of the fields, or null. It is an upload field but no pipeline option: it is not part of
    /// <see cref="DocumentOptions"/> (nor of the checkpoints' key); <see cref="RetentionPolicy"/> resolves it.
    /// </summary>
    public static string? RetainFor(IReadOnlyList<KeyValuePair<string, string>> fields) =>
        fields.Where(f => f.Key.Equals(RetentionPeriod.Field, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value).FirstOrDefault();

    /// <summary>The problem with the first field that is no option, given twice or too long; null when there is none.</summary>
    public static IResult? CheckNames(IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (field, value) in fields)
        {
            if (OptionName(field) is not { } name)
            {
                return IngestProblems.UnknownOption(field);
            }

            if (!seen.Add(name))
            {
                return IngestProblems.InvalidOption(name, "is given twice; give each option once.");
            }

            if (value.Length > MaxValueLength)
            {
                return IngestProblems.InvalidOption(name, $"is longer than {MaxValueLength} characters.");
            }
        }

        return null;
    }

    /// <summary>The options the fields ask for, defaults for the rest, or the problem with the first bad field.</summary>
    public async Task<(DocumentOptions? Options, IResult? Problem)> ReadAsync(IReadOnlyList<KeyValuePair<string, string>> fields, CancellationToken cancellationToken)
    {
        if (CheckNames(fields) is { } problem)
        {
            return (null, problem);
        }

        var options = DocumentOptions.Default;
        foreach (var (field, raw) in fields)
        {
            var name = OptionName(field)!;
            var value = raw.Trim();
            switch (name)
            {
                case DocumentOptions.OcrField when DocumentOptions.OcrModes.Contains(value):
                    options = options with { Ocr = value };
                    break;
                case DocumentOptions.ImagesField when DocumentOptions.ImageModes.Contains(value):
                    options = options with { Images = value };
                    break;
                case DocumentOptions.TablesField when DocumentOptions.Switches.Contains(value):
                    options = options with { Tables = value };
                    break;
                case DocumentOptions.DescribePicturesField when DocumentOptions.Switches.Contains(value):
                    options = options with { DescribePictures = value };
                    break;
                case CallbackUrlCheck.Field:
                    if (await callbacks.CheckAsync(value, cancellationToken) is { } refused)
                    {
                        return (null, refused);
                    }

                    break;
                case DocumentOptions.ChunksField when DocumentOptions.ChunkModes.Contains(value):
                    options = options with { Chunks = value == ChunkMode.Off ? null : value };
                    break;
                case RetentionPeriod.Field:
                    // Checked here so that a bad value is refused with the other fields, before anything is stored.
                    if (!RetentionPeriod.TryParse(value, out _))
                    {
                        return (null, IngestProblems.InvalidOption(name,
                            $"is not a retention period: '{Clip(value)}'. Write an ISO-8601 duration such as P7D or PT12H, or whole seconds such as 3600."));
                    }

                    break;
                case DocumentOptions.PageRangeField:
                    if (!PageRange.TryParse(value, out var range, out var why))
                    {
                        return (null, IngestProblems.InvalidOption(name, $"is not a page range: {why}. Write pages and ranges separated by commas, like 2-3, 1,4-6 or 5-."));
                    }

                    options = options with { PageRange = range.ToString() };
                    break;
                case DocumentOptions.OcrLanguagesField:
                    var (codes, refusal) = await LanguagesAsync(value, cancellationToken);
                    if (refusal is not null)
                    {
                        return (null, refusal);
                    }

                    options = options with { OcrLanguages = codes };
                    break;
                default:
                    return (null, IngestProblems.InvalidOption(name, $"cannot be '{Clip(value)}'.", Allowed(name)));
            }
        }

        return (options, null);
    }

    private async Task<(string? Codes, IResult? Problem)> LanguagesAsync(string value, CancellationToken cancellationToken)
    {
        var codes = value.Split(['+', ','], StringSplitOptions.TrimEntries);
        var installed = await languages.GetAsync(cancellationToken);
        if (codes.Length > MaxLanguages || codes.Any(c => c.Length == 0))
        {
            return (null, IngestProblems.InvalidOption(DocumentOptions.OcrLanguagesField,
                $"must be 1 to {MaxLanguages} tesseract language codes joined with + or , (like deu or eng+deu); it was '{Clip(value)}'.", installed.Languages));
        }

        if (codes.FirstOrDefault(c => !installed.Languages.Contains(c, StringComparer.Ordinal)) is { } missing)
        {
            var why = installed.Problem is null ? "" : $" (the installed languages are not known: {installed.Problem})";
            return (null, IngestProblems.InvalidOption(DocumentOptions.OcrLanguagesField,
                $"names '{Clip(missing)}', which is not an installed tesseract language{why}; GET /api/ocr/languages lists them.", installed.Languages));
        }

        return (string.Join('+', codes.Distinct(StringComparer.Ordinal)), null);
    }

    private static IReadOnlyList<string>? Allowed(string name) => name switch
    {
        DocumentOptions.OcrField => DocumentOptions.OcrModes,
        DocumentOptions.ImagesField => DocumentOptions.ImageModes,
        DocumentOptions.TablesField or DocumentOptions.DescribePicturesField => DocumentOptions.Switches,
        DocumentOptions.ChunksField => DocumentOptions.ChunkModes,
        _ => null,
    };

    private static string Clip(string value) => value.Length <= 80 ? value : value[..80] + "...";
}
