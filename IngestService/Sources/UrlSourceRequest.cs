using System.Text.Json;
using IngestService.Api;
using IngestService.Documents;
using Microsoft.Net.Http.Headers;

namespace IngestService.Sources;

/// <summary>
/// The JSON body of a URL upload, <c>{"url": "https://…", "fileName": "…", &lt;options&gt;}</c>, read by hand so that every
/// refusal names its field (Req ERR-3): a member that is neither of these two nor a pipeline option (string values,
/// checked by <see cref="UploadOptions"/>) is refused, not ignored, so that a misspelt <c>fileName</c> does not pass
/// unnoticed. Member names match without case, like the rest of the API's JSON.
/// </summary>
internal sealed record UrlSourceRequest(Uri Url, string? FileName, IReadOnlyList<KeyValuePair<string, string>> OptionFields)
{
    /// <summary>A URL, a file name and the JSON around them fit many times over; a bigger body is not a URL upload.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    /// <summary>Whether the request says its body is JSON (application/json, any charset).</summary>
    public static bool IsJson(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
               && mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The request, or the problem with its body.</summary>
    public static async Task<(UrlSourceRequest? Request, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[] body;
        try
        {
            if (await ReadBoundedAsync(request.Body, cancellationToken) is not { } read)
            {
                return (null, SourceProblems.InvalidRequest(null, $"the body is larger than {MaxBodyBytes / 1024} KiB"));
            }

            body = read;
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, SourceProblems.InvalidRequest(null, $"the body could not be read to its end ({ex.Message})"));
        }

        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 4 });
            return Parse(document.RootElement);
        }
        catch (JsonException ex)
        {
            return (null, SourceProblems.InvalidRequest(null, $"it is not valid JSON ({ex.Message})"));
        }
    }

    private static (UrlSourceRequest?, IResult?) Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, SourceProblems.InvalidRequest(null, "it is not a JSON object"));
        }

        JsonElement? url = null;
        JsonElement? fileName = null;
        var options = new List<KeyValuePair<string, string>>();
        foreach (var member in root.EnumerateObject())
        {
            var isUrl = member.Name.Equals(SourceProblems.UrlField, StringComparison.OrdinalIgnoreCase);
            if (!isUrl && !member.Name.Equals(SourceProblems.FileNameField, StringComparison.OrdinalIgnoreCase))
            {
                if (UploadOptions.OptionName(member.Name) is not { } option)
                {
                    return (null, IngestProblems.UnknownOption(member.Name));
                }

                if (member.Value.ValueKind != JsonValueKind.String)
                {
                    return (null, IngestProblems.InvalidOption(option, "must be a JSON string."));
                }

                // Repeats and values are checked with the multipart fields' rules.
                options.Add(new(member.Name, member.Value.GetString()!));
                continue;
            }

            if ((isUrl ? url : fileName) is not null)
            {
                return (null, SourceProblems.InvalidRequest(member.Name, $"it has the member '{Clip(member.Name)}' twice"));
            }

            if (isUrl)
            {
                url = member.Value;
            }
            else
            {
                fileName = member.Value;
            }
        }

        if (url is not { ValueKind: not JsonValueKind.Null } urlValue)
        {
            return (null, SourceProblems.InvalidRequest(SourceProblems.UrlField, $"'{SourceProblems.UrlField}' is missing"));
        }

        if (urlValue.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(urlValue.GetString()))
        {
            return (null, SourceProblems.InvalidRequest(SourceProblems.UrlField, $"'{SourceProblems.UrlField}' must be a non-empty string"));
        }

        if (fileName is { ValueKind: not (JsonValueKind.String or JsonValueKind.Null) })
        {
            return (null, SourceProblems.InvalidRequest(SourceProblems.FileNameField, $"'{SourceProblems.FileNameField}' must be a string"));
        }

        var text = urlValue.GetString()!.Trim();
        if (text.Length > SourceUrls.MaxLength)
        {
            return (null, SourceProblems.UrlInvalid($"it is longer than {SourceUrls.MaxLength} characters"));
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed))
        {
            return (null, SourceProblems.UrlInvalid("it is not an absolute URL"));
        }

        if (SourceUrls.WhyNotFetchable(parsed) is { } why)
        {
            return (null, SourceProblems.UrlInvalid(why));
        }

        return (new UrlSourceRequest(parsed, fileName?.GetString(), options), null);
    }

    /// <summary>The body, or null when it is longer than <see cref="MaxBodyBytes"/> (read no further than one byte past it).</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        return length > MaxBodyBytes ? null : buffer[..length];
    }

    private static string Clip(string value) => value.Length <= 80 ? value : value[..80] + "...";
}
