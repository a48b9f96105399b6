using IngestService.Documents;
using IngestService.Sources;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Suite.Contracts;
using Suite.ServiceDefaults.Http;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The request options of the public document API as its OpenAPI document describes them: those the handlers read by
/// hand (the upload's body, header and query) and the limits of those they bind.
/// </summary>
internal static class DocumentApiDescription
{
    public const string PriorityParameter = "priority";

    /// <summary>Storage and catalog failures (StorageFailureFilter) that any document endpoint can answer.</summary>
    public static RouteGroupBuilder ProducesStorageProblems(this RouteGroupBuilder group) => group
        .ProducesApiProblem(503, "catalog_unavailable", "catalog_busy", "catalog_read_only", "storage_unavailable")
        .ProducesApiProblem(507, "insufficient_storage");

    /// <summary>
    /// The two bodies, multipart with its <c>file</c> part or JSON naming a URL (after the multipart one, which sets the
    /// request body), and the optional Idempotency-Key header and priority.
    /// </summary>
    public static RouteHandlerBuilder WithUploadOptions(this RouteHandlerBuilder builder) => builder
        .AcceptsFilePart(IngestService.Api.IngestProblems.FilePart,
            "The PDF. Recognised by its %PDF- signature, not by its name or declared type; its size is limited by Ingest:MaxUploadBytes.")
        .AcceptsUrlSource()
        .WithHeaderParameter(DependencyResilienceExtensions.IdempotencyKeyHeader,
            "Optional. A key chosen by the client for this upload: sending the upload again with the same key (after a time-out, say) " +
            "does not store the file a second time.")
        .WithQueryParameter(PriorityParameter,
            "Optional. interactive or batch: interactive jobs are processed before batch jobs.", "interactive", "batch");

    /// <summary>The application/json body of a URL upload: <c>url</c> (required) and <c>fileName</c>, nothing else.</summary>
    private static RouteHandlerBuilder AcceptsUrlSource(this RouteHandlerBuilder builder) => builder
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody is not OpenApiRequestBody body)
            {
                body = new OpenApiRequestBody { Required = true };
                operation.RequestBody = body;
            }

            body.Content ??= new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal);
            body.Content["application/json"] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "A URL upload: the service fetches the PDF itself (redirects followed and checked, Sources:TotalTimeoutSeconds " +
                                  "for the whole fetch, the same size limit and checks as a file part).",
                    Required = new HashSet<string>(StringComparer.Ordinal) { SourceProblems.UrlField },
                    AdditionalPropertiesAllowed = false,
                    Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
                    {
                        [SourceProblems.UrlField] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.String,
                            Format = "uri",
                            MaxLength = SourceUrls.MaxLength,
                            Description = "An absolute http:// or https:// URL without user name or password. Its host must resolve to public " +
                                          "internet addresses only (as must every redirect's), unless Sources:AllowedHosts allows it; " +
                                          "the document records it as sourceUrl, its query's values left out.",
                        },
                        [SourceProblems.FileNameField] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.String | JsonSchemaType.Null,
                            Description = "Optional. The name to show; else the remote's Content-Disposition, else the URL's last path segment.",
                        },
                    },
                },
            };
            foreach (var (name, schema) in OptionSchemas())
            {
                ((OpenApiSchema)body.Content["application/json"].Schema!).Properties![name] = schema;
            }

            // The same options as text fields of the multipart body, beside the file part.
            if (body.Content.TryGetValue("multipart/form-data", out var multipart) && multipart.Schema is OpenApiSchema form)
            {
                form.Properties ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
                foreach (var (name, schema) in OptionSchemas())
                {
                    form.Properties[name] = schema;
                }
            }

            return Task.CompletedTask;
        });

    /// <summary>The pipeline options (docs/api.md), each optional; any other field or member is 400 unknown_option.</summary>
    private static IEnumerable<(string Name, OpenApiSchema Schema)> OptionSchemas()
    {
        static OpenApiSchema Choice(string description, IReadOnlyList<string> values) => new()
        {
            Type = JsonSchemaType.String,
            Description = description,
            Enum = [.. values.Select(v => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(v)!)],
            Default = System.Text.Json.Nodes.JsonValue.Create(values[0]),
        };

        yield return (DocumentOptions.OcrField, Choice(
            "Optional pipeline option. auto: OCR pages without a usable text layer; force: OCR every page and use its words instead of the text layer; off: no OCR.",
            DocumentOptions.OcrModes));
        yield return (DocumentOptions.OcrLanguagesField, new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            MaxLength = UploadOptions.MaxValueLength,
            Description = "Optional pipeline option. tesseract language codes joined with + or , (deu, eng+deu), each listed by GET /api/ocr/languages; " +
                          "default: the workers' Pipeline:Ocr:Language.",
        });
        yield return (DocumentOptions.PageRangeField, new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            MaxLength = UploadOptions.MaxValueLength,
            Description = "Optional pipeline option. The pages to process: pages and ranges separated by commas (2-3, 1,4-6, 5-). Pages beyond the " +
                          "document are dropped; a range with none of its pages fails it with page_range_empty. Default: every page.",
        });
        yield return (DocumentOptions.ImagesField, Choice(
            "Optional pipeline option. referenced: pictures by URL; embedded: pictures as data: URIs in the JSON, Markdown and HTML; none: no pictures.",
            DocumentOptions.ImageModes));
        yield return (DocumentOptions.TablesField, Choice("Optional pipeline option. off: no table detection (tables stay text).", DocumentOptions.Switches));
        yield return (DocumentOptions.DescribePicturesField, Choice("Optional pipeline option. off: pictures are not described.", DocumentOptions.Switches));
        yield return (IngestService.Webhooks.CallbackUrlCheck.Field, new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Format = "uri",
            MaxLength = UploadOptions.MaxValueLength,
            Description = "Optional completion webhook (not a pipeline option): a signed POST when the document is completed, failed or cancelled " +
                          "(docs/webhooks.md). Same rules as url: http(s), no credentials, public hosts unless Sources:AllowedHosts allows it " +
                          "(else 400 invalid_callback_url). The 202 answer carries callbackSecret, the whsec_ secret the notifications are signed with.",
        });
        yield return (DocumentOptions.ChunksField, Choice(
            "Optional. hybrid or hierarchical: that strategy's chunks (configured defaults: Chunks:DefaultMaxTokens, no overlap, " +
            "Chunks:DefaultTokenizer) are computed when the result is stored and served from disk by GET /api/documents/{id}/chunks; " +
            "off: chunks are computed when asked for (docs/chunks.md).",
            DocumentOptions.ChunkModes));
        yield return (IngestService.Retention.RetentionPeriod.Field, new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            MaxLength = UploadOptions.MaxValueLength,
            Description = "Optional. How long the document is kept once finished (completed, failed, cancelled, rejected): an ISO-8601 duration " +
                          "(P7D, PT12H) or whole seconds (3600). Default Retention:Default, at most Retention:Max (a longer one is cut to it). " +
                          "Afterwards it answers 410 document_expired.",
        });
    }

    /// <summary>
    /// A batch upload's body: the part <c>file</c> repeated, and the same option fields as a single upload, applied to
    /// every file.
    /// </summary>
    public static RouteHandlerBuilder WithBatchUploadOptions(this RouteHandlerBuilder builder) => builder
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            var form = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string>(StringComparer.Ordinal) { IngestService.Api.IngestProblems.FilePart },
                Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
                {
                    [IngestService.Api.IngestProblems.FilePart] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Array,
                        Description = "The files, one part named file each, in the order of the answer; at most Ingest:MaxBatchFiles, " +
                                      "together at most Ingest:MaxBatchBytes, each at most Ingest:MaxUploadBytes.",
                        Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                    },
                },
            };
            foreach (var (name, schema) in OptionSchemas())
            {
                form.Properties[name] = schema;
            }

            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["multipart/form-data"] = new() { Schema = form } },
            };
            return Task.CompletedTask;
        })
        .WithQueryParameter(PriorityParameter,
            "Optional. interactive or batch, for every file of the batch: interactive jobs are processed before batch jobs.", "interactive", "batch");

    /// <summary>limit (bounded by Ingest:MaxPageSize) and cursor.</summary>
    public static RouteHandlerBuilder WithPageOptions(this RouteHandlerBuilder builder) => builder
        .WithIntegerQueryParameter("limit",
            "Page size, from 1 to Ingest:MaxPageSize (100 by default); Ingest:DefaultPageSize (20 by default) without it.",
            1, services => services.GetRequiredService<IOptions<IngestOptions>>().Value.MaxPageSize)
        .WithQueryParameter("cursor",
            "The nextCursor of the previous page, unchanged; leave it out to start from the newest document.");

    /// <summary>format, and the result in each of its formats: the DocumentResult as JSON, or text (Markdown, plain, HTML).</summary>
    public static RouteHandlerBuilder WithResultOptions(this RouteHandlerBuilder builder) => builder
        .WithQueryParameter("format",
            "The result's format: json (default), markdown, text or html (a complete HTML5 document; 404 result_format_unavailable " +
            "for a document completed by a worker that did not produce it).",
            [.. IngestService.Storage.ResultFormat.Names])
        .Produces<DocumentResult>(StatusCodes.Status200OK, "application/json")
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse { Content: { } content })
            {
                content["text/markdown"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "format=markdown" } };
                content["text/plain"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "format=text" } };
                content["text/html"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "format=html" } };
            }

            return Task.CompletedTask;
        });
}
