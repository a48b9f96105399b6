using IngestService.Documents;
using IngestService.Ocr;
using Microsoft.AspNetCore.Mvc;

namespace Microsoft.Extensions.Hosting;

/// <summary>The OCR languages an upload's <c>ocrLanguages</c> may name: the list, its source, and the one endpoint that shows them.</summary>
internal static class OcrLanguageEndpoints
{
    public const string Route = "/api/ocr/languages";

    public static TBuilder AddOcrLanguages<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<OcrLanguageOptions>()
            .Bind(builder.Configuration.GetSection(OcrLanguageOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.Languages.All(l => l.Length > 0 && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')),
                "Ocr:Languages must list tesseract language codes (letters, digits, _), like eng or chi_sim.")
            .ValidateOnStart();
        builder.Services.AddSingleton<OcrLanguages>();
        builder.Services.AddSingleton<UploadOptions>();
        return builder;
    }

    public static WebApplication MapOcrLanguageEndpoints(this WebApplication app)
    {
        app.MapGet(Route, async ([FromServices] OcrLanguages languages, CancellationToken cancellationToken) =>
            {
                var list = await languages.GetAsync(cancellationToken);
                return TypedResults.Ok(new OcrLanguagesView(list.Languages, list.Source, list.Problem));
            })
            .WithTags("ocr")
            .WithName("ListOcrLanguages")
            .WithSummary("List the OCR languages an upload may ask for")
            .WithDescription("The tesseract language codes the workers have installed: the values the upload option ocrLanguages accepts " +
                             "(joined with + or ,). source is configuration (Ocr:Languages) or tesseract (its --list-langs, asked by this " +
                             "service); problem says why the list is empty when tesseract could not be asked.")
            .Produces<OcrLanguagesView>();
        return app;
    }
}

/// <summary>GET /api/ocr/languages.</summary>
internal sealed record OcrLanguagesView(
    IReadOnlyList<string> Languages,
    string Source,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Problem);
