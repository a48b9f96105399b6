using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests;

/// <summary>The central problem handling every service gets from ServiceDefaults, on a real ASP.NET Core pipeline.</summary>
public sealed class ProblemHandlingTests
{
    private const string InternalDetail = "connection string Password=hunter2 at /srv/secret/path";

    [Fact]
    [Trait("Req", "ERR-4")]
    [Trait("Req", "SEC-2")]
    public async Task An_unhandled_exception_is_logged_with_its_context_and_answered_as_a_500_problem_without_internals()
    {
        var logs = new RecordingLoggerProvider();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.AddServiceDefaults();
        builder.Logging.AddProvider(logs);
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGet("/api/things/{id}", (string id) => id == "boom" ? throw new InvalidOperationException(InternalDetail) : Results.Ok(id));
        await app.StartAsync();
        using var client = app.GetTestClient();

        using var response = await client.GetAsync(new Uri("/api/things/boom", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("internal_error", problem.RootElement.GetProperty("code").GetString());
        Assert.True(problem.RootElement.GetProperty("retryable").GetBoolean());
        var traceId = problem.RootElement.GetProperty("traceId").GetString();
        Assert.False(string.IsNullOrEmpty(traceId));
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);

        // Logged once, as an error, with the request it happened on and the exception itself.
        var logged = Assert.Single(logs.Entries, e => e.Category == "Suite.UnhandledException");
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains("GET /api/things/boom", logged.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(logged.Exception);
    }

    [Fact]
    [Trait("Req", "ERR-3")]
    public async Task A_parameter_of_the_wrong_type_and_malformed_JSON_get_400_problems_that_name_what_was_wrong()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.AddServiceDefaults();
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGet("/api/pages/{number:int}", (int number, int size) => Results.Ok(number * size));
        app.MapPost("/api/notes", (Note note) => Results.Ok(note.Title));
        await app.StartAsync();
        using var client = app.GetTestClient();

        using var wrongType = await client.GetAsync(new Uri("/api/pages/3?size=big", UriKind.Relative));
        var query = await wrongType.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal("application/problem+json", wrongType.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"code\":\"bad_request\"", query, StringComparison.Ordinal);
        Assert.Contains("size", query, StringComparison.Ordinal);

        using var malformed = await client.PostAsync(new Uri("/api/notes", UriKind.Relative),
            new StringContent("{\"title\": \"unterminated", System.Text.Encoding.UTF8, "application/json"));
        var json = await malformed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"code\":\"bad_request\"", json, StringComparison.Ordinal);
        Assert.Contains("note", json, StringComparison.OrdinalIgnoreCase);
    }

    private sealed record Note(string Title);

    private sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);

    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<LogEntry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception));
        }
    }
}
