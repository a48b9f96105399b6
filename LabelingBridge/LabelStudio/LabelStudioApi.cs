using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelingBridge.Telemetry;

namespace LabelingBridge.LabelStudio;

/// <summary>
/// Typed client of Label Studio's REST API (one HTTP request per method; retries belong to
/// <see cref="LabelStudioOperations"/>). Every failure surfaces as a classified <see cref="LabelStudioException"/>;
/// a 401/403 marks the credentials rejected, after which only <see cref="ProbeAsync"/> sends anything.
/// </summary>
public sealed class LabelStudioApi(HttpClient http, CredentialState credentials, BridgeMetrics metrics, TimeProvider time)
{
    public const string ClientName = "label-studio";

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public Uri? BaseAddress => http.BaseAddress;

    /// <summary>One authenticated request that is sent even while the credentials are known bad.</summary>
    public async Task ProbeAsync(CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, "api/projects/?page=1&page_size=1", null, cancellationToken, probe: true);

    public async Task<LsProject?> GetProjectAsync(int id, CancellationToken cancellationToken)
    {
        var body = await SendAsync(HttpMethod.Get, $"api/projects/{id}/", null, cancellationToken, allowNotFound: true);
        return body is null ? null : Parse<LsProject>(body);
    }

    /// <summary>Projects whose title contains <paramref name="title"/> (Label Studio filters case-insensitively), every page.</summary>
    public async Task<IReadOnlyList<LsProject>> FindProjectsAsync(string title, CancellationToken cancellationToken)
    {
        var found = new List<LsProject>();
        for (var page = 1; page <= 100; page++)
        {
            var body = await SendAsync(HttpMethod.Get, $"api/projects/?page={page}&page_size=100&title={Uri.EscapeDataString(title)}", null, cancellationToken, allowNotFound: true);
            var results = body is null ? null : Parse<LsProjectPage>(body).Results;
            if (results is null || results.Count == 0)
            {
                break;
            }

            found.AddRange(results);
        }

        return found;
    }

    public async Task<LsProject> CreateProjectAsync(string title, string description, string labelConfig, CancellationToken cancellationToken)
    {
        var body = await SendAsync(HttpMethod.Post, "api/projects/", new JsonObject
        {
            ["title"] = title,
            ["description"] = description,
            ["label_config"] = labelConfig,
            ["show_collab_predictions"] = true,
        }, cancellationToken);
        return Parse<LsProject>(body!);
    }

    public async Task<IReadOnlyList<LsWebhook>> ListWebhooksAsync(int projectId, CancellationToken cancellationToken)
    {
        var body = await SendAsync(HttpMethod.Get, $"api/webhooks/?project={projectId}", null, cancellationToken);
        return Parse<List<LsWebhook>>(body!);
    }

    public async Task<LsWebhook> SaveWebhookAsync(int? existingId, JsonObject webhook, CancellationToken cancellationToken)
    {
        var body = existingId is { } id
            ? await SendAsync(HttpMethod.Patch, $"api/webhooks/{id}/", webhook, cancellationToken)
            : await SendAsync(HttpMethod.Post, "api/webhooks/", webhook, cancellationToken);
        return Parse<LsWebhook>(body!);
    }

    /// <summary>One page of the project's tasks, or null past the last page (Label Studio answers 404 there).</summary>
    public async Task<LsTaskPage?> ListTasksAsync(int projectId, int page, int pageSize, bool withAnnotations, string? query, CancellationToken cancellationToken)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"api/tasks/?project={projectId}&page={page}&page_size={pageSize}&fields={(withAnnotations ? "all" : "task_only")}");
        if (query is not null)
        {
            path += "&query=" + Uri.EscapeDataString(query);
        }

        var body = await SendAsync(HttpMethod.Get, path, null, cancellationToken, allowNotFound: true);
        return body is null ? null : Parse<LsTaskPage>(body);
    }

    /// <summary>Every task of the project whose data.doc_id is <paramref name="documentId"/> (a Data Manager filter, checked again here).</summary>
    public async Task<IReadOnlyList<LsTask>> FindDocumentTasksAsync(int projectId, string documentId, CancellationToken cancellationToken)
    {
        var query = new JsonObject
        {
            ["filters"] = new JsonObject
            {
                ["conjunction"] = "and",
                ["items"] = new JsonArray(new JsonObject
                {
                    ["filter"] = "filter:tasks:data.doc_id",
                    ["operator"] = "equal",
                    ["type"] = "String",
                    ["value"] = documentId,
                }),
            },
        }.ToJsonString();
        var tasks = new List<LsTask>();
        for (var page = 1; page <= 10_000; page++)
        {
            var result = await ListTasksAsync(projectId, page, 100, withAnnotations: false, query, cancellationToken);
            if (result?.Tasks is not { Count: > 0 } found)
            {
                break;
            }

            tasks.AddRange(found.Where(t => t.DocumentId == documentId));
        }

        return tasks;
    }

    /// <summary>
    /// POST /api/projects/{id}/import. Community edition answers the counts at once; other editions answer
    /// <c>{"import": id}</c>, which is polled until completed or failed (within the caller's budget).
    /// </summary>
    public async Task<LsImportOutcome> ImportTasksAsync(int projectId, JsonArray tasks, CancellationToken cancellationToken)
    {
        var body = await SendAsync(HttpMethod.Post, $"api/projects/{projectId}/import?return_task_ids=true", tasks, cancellationToken);
        var root = JsonNode.Parse(body!) as JsonObject ?? throw Unexpected("the import answer is not a JSON object");
        if (root["import"] is JsonValue importId && importId.TryGetValue<long>(out var id))
        {
            return await WaitForImportAsync(projectId, id, cancellationToken);
        }

        // The server writes prediction_count; the OpenAPI schema says predictions_count. Only task_count matters here.
        var count = root["task_count"] is JsonValue c && c.TryGetValue<int>(out var n) ? n : throw Unexpected("the import answer has no task_count");
        return new LsImportOutcome(count, Ids(root["task_ids"]));
    }

    private async Task<LsImportOutcome> WaitForImportAsync(int projectId, long importId, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var body = await SendAsync(HttpMethod.Get, $"api/projects/{projectId}/imports/{importId}/", null, cancellationToken);
            var root = JsonNode.Parse(body!) as JsonObject ?? throw Unexpected("the import status is not a JSON object");
            switch (root["status"]?.ToString())
            {
                case "completed":
                    var count = root["task_count"] is JsonValue c && c.TryGetValue<int>(out var n) ? n : 0;
                    return new LsImportOutcome(count, Ids(root["task_ids"]));
                case "failed":
                    throw new LabelStudioException(new LabelStudioError(LabelStudioErrorCodes.ImportFailed, false,
                        $"Label Studio import {importId} failed: {root["error"]}"));
            }

            await Task.Delay(delay, time, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
        }
    }

    private static List<long> Ids(JsonNode? node) =>
        node is JsonArray array ? array.Select(n => n is JsonValue v && v.TryGetValue<long>(out var id) ? id : 0).Where(id => id > 0).ToList() : [];

    private async Task<string?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken, bool allowNotFound = false, bool probe = false)
    {
        if (!probe && credentials.IsRejected)
        {
            throw new LabelStudioException(new LabelStudioError(LabelStudioErrorCodes.CredentialsRejected, false,
                "Label Studio rejected the credentials; nothing is sent until the periodic probe succeeds.", NotSent: true));
        }

        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body));
            request.Content.Headers.ContentType = Json;
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (LabelStudioError.FromException(ex) is { } error)
        {
            Record(error);
            throw ex as LabelStudioException ?? new LabelStudioException(error, ex);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                credentials.MarkValid();
                return text;
            }

            if (allowNotFound && response.StatusCode == HttpStatusCode.NotFound)
            {
                credentials.MarkValid();
                return null;
            }

            var failure = LabelStudioError.FromStatus((int)response.StatusCode, LabelStudioError.DetailOf(text), LabelStudioError.RetryAfterOf(response.Headers, time.GetUtcNow()));
            Record(failure);
            throw new LabelStudioException(failure);
        }
    }

    private void Record(LabelStudioError error)
    {
        if (error.Code == LabelStudioErrorCodes.CredentialsRejected && !error.NotSent)
        {
            credentials.MarkRejected(error.StatusCode ?? 401, error.Message);
        }

        metrics.LabelStudioError(error.Code);
    }

    private static T Parse<T>(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, LabelStudioJson.Options) ?? throw Unexpected("empty answer");
        }
        catch (JsonException ex)
        {
            throw new LabelStudioException(new LabelStudioError(LabelStudioErrorCodes.UnexpectedResponse, true, "Label Studio's answer was not the expected JSON: " + ex.Message), ex);
        }
    }

    private static LabelStudioException Unexpected(string what) =>
        new(new LabelStudioError(LabelStudioErrorCodes.UnexpectedResponse, true, "Unexpected answer from Label Studio: " + what));
}
