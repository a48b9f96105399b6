using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Http;

namespace Suite.PipelineWorker.Engines;

/// <summary>
/// The optional picture-description model (section <c>Pipeline:Describe</c>): an OpenAI-compatible endpoint,
/// <c>POST {Url}/v1/chat/completions</c> with the picture as a data URL. Off when <see cref="Url"/> is not set.
/// The HTTP client has its own resilience pipeline and circuit breaker (section <c>Resilience:vision</c>).
/// </summary>
internal sealed class DescribeOptions
{
    public const string Section = "Pipeline:Describe";

    public bool Enabled { get; set; } = true;

    /// <summary>Base URL of the OpenAI-compatible server (without <c>/v1</c>); empty = stage skipped.</summary>
    public string? Url { get; set; }

    public string? Model { get; set; }

    /// <summary>Sent as a Bearer token; never logged.</summary>
    public string? ApiKey { get; set; }

    public string Prompt { get; set; } = "Describe this picture from a document in one or two sentences. Mention any text or numbers it shows.";

    public int MaxTokens { get; set; } = 200;

    /// <summary>At most this many pictures of one document are described (the rest are listed as undescribed).</summary>
    public int MaxPictures { get; set; } = 20;

    /// <summary>Larger picture files are not sent.</summary>
    public long MaxImageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Whole-stage timeout; pictures not reached by then stay undescribed.</summary>
    public int TimeoutSeconds { get; set; } = 300;

    public bool IsConfigured => Enabled && !string.IsNullOrWhiteSpace(Url);

    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrWhiteSpace(Url))
        {
            if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"Pipeline:Describe:Url must be an absolute http(s) URL; it is '{Url}'.";
            }

            if (string.IsNullOrWhiteSpace(Model))
            {
                yield return "Pipeline:Describe:Model must be set when Pipeline:Describe:Url is set.";
            }
        }

        if (MaxTokens is < 1 or > 8192 || MaxPictures is < 0 or > 10_000 || MaxImageBytes < 1024 || TimeoutSeconds is < 1 or > 86_400)
        {
            yield return "Pipeline:Describe: MaxTokens 1-8192, MaxPictures 0-10000, MaxImageBytes >= 1024, TimeoutSeconds 1-86400.";
        }
    }
}

/// <summary>The endpoint refused a picture (4xx other than 408/429): not retried, not the dependency's fault.</summary>
internal sealed class VisionRejectedException(string message) : Exception(message)
{
    public VisionRejectedException()
        : this("The vision endpoint refused the request.")
    {
    }

    public VisionRejectedException(string message, Exception innerException)
        : this(message + " " + innerException?.Message)
    {
    }
}

/// <summary>Typed client of the vision endpoint.</summary>
internal sealed class VisionClient(HttpClient http, IOptions<DescribeOptions> options)
{
    public const string Name = "vision";

    /// <summary>
    /// Asks for a description of one picture. The request is a pure function of its body, so it carries an
    /// Idempotency-Key and the resilience handler may retry it. Throws HttpRequestException (after retries),
    /// Polly's timeout/broken-circuit exceptions, or <see cref="VisionRejectedException"/>.
    /// </summary>
    public async Task<string> DescribeAsync(ReadOnlyMemory<byte> image, string contentType, string idempotencyKey, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var request = new ChatRequest(
            o.Model ?? "",
            [new ChatMessage("user", [
                new ChatContent("text", o.Prompt, null),
                new ChatContent("image_url", null, new ImageUrl($"data:{contentType};base64,{Convert.ToBase64String(image.Span)}")),
            ])],
            o.MaxTokens);
        using var message = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = JsonContent.Create(request, options: Json),
        };
        if (!string.IsNullOrEmpty(o.ApiKey))
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", o.ApiKey);
        }

        message.Headers.SetIdempotencyKey(idempotencyKey);
        using var response = await http.SendAsync(message, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
            {
                throw new HttpRequestException($"the vision endpoint answered {status} {response.ReasonPhrase}", null, response.StatusCode);
            }

            throw new VisionRejectedException($"the vision endpoint refused the picture: {status} {response.ReasonPhrase}");
        }

        ChatResponse? body;
        try
        {
            body = await response.Content.ReadFromJsonAsync<ChatResponse>(Json, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new VisionRejectedException("the vision endpoint answered with something that is not a chat completion", ex);
        }

        var text = body?.Choices?.FirstOrDefault()?.Message?.Content?.Trim();
        return string.IsNullOrEmpty(text)
            ? throw new VisionRejectedException("the vision endpoint answered with an empty description")
            : text;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private sealed record ChatRequest(string Model, IReadOnlyList<ChatMessage> Messages, int MaxTokens);

    private sealed record ChatMessage(string Role, IReadOnlyList<ChatContent> Content);

    private sealed record ChatContent(string Type, string? Text, ImageUrl? ImageUrl);

    private sealed record ImageUrl(string Url);

    private sealed record ChatResponse(IReadOnlyList<ChatChoice>? Choices);

    private sealed record ChatChoice(ChatAnswer? Message);

    private sealed record ChatAnswer(string? Content);
}
