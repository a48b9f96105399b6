using System.Net;
using LabelingBridge.LabelStudio;
using LabelingBridge.Tests.Infrastructure;
using LabelStudioEmulator;
using Microsoft.Extensions.DependencyInjection;
using Suite.Testing;

namespace LabelingBridge.Tests;

/// <summary>Credentials rejected, restored, and Personal Access Tokens with the refresh flow.</summary>
public sealed class CredentialTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    [Trait("Req", "DEG-2")]
    public async Task A_revoked_key_gives_503_with_what_to_fix_no_retry_storm_and_delivery_resumes_when_the_key_works_again()
    {
        await using var s = await Scenario.StartAsync();
        await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(pages: 1)), "delivered", Wait);
        s.Emulator.Faults.CredentialsRevoked = true;

        // An export accepted while the key still looked fine is held, not failed.
        var held = s.AddDocument(pages: 2);
        var heldExport = await s.RequestExportAsync(held);
        await s.WaitForExportAsync(heldExport, e => e.GetProperty("lastError").ValueKind == System.Text.Json.JsonValueKind.Object &&
                                                    e.GetProperty("lastError").GetProperty("code").GetString() == "credentials_rejected", Wait, "the export met the rejected key");

        using var refused = await s.Client.PostAsync(new Uri($"/api/documents/{s.AddDocument(1)}/exports/label-studio", UriKind.Relative), null);
        var problem = await ExportDeliveryTests.AssertProblem(refused, HttpStatusCode.ServiceUnavailable, "label_studio_credentials_rejected");
        Assert.Contains("LabelStudio:ApiKey", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("LabelStudio__ApiKey", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(refused.Headers.RetryAfter);
        var (status, ready) = await s.ReadinessAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("rejected", ready.GetProperty("checks").GetProperty("label-studio").GetProperty("data").GetProperty("credentials").GetString());

        // No retry storm: over an observation window of 3 s, at most one probe per second (1 s probe interval) reaches Label Studio.
        var windowStart = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var inWindow = s.Emulator.Requests.Since(windowStart).Count(r => r.At < windowStart.AddSeconds(3));
        Assert.InRange(inWindow, 1, 4);
        Assert.Equal("pending", (await s.ExportAsync(heldExport)).GetProperty("state").GetString());

        s.Emulator.Faults.CredentialsRevoked = false;
        await s.WaitForExportAsync(heldExport, "delivered", Wait);
        Assert.Equal(2, s.TasksOf(held).Count);
        await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(1)), "delivered", Wait);
    }

    [Fact]
    public async Task A_personal_access_token_is_exchanged_for_bearer_access_tokens_and_refreshed_once_on_a_401()
    {
        await using var s = await Scenario.StartAsync(apiKey: e => e.State.Tokens.IssuePersonalAccessToken());
        var tokens = s.Bridge.Services.GetRequiredService<AccessTokenProvider>();
        Assert.True(tokens.UsesRefreshFlow);
        await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(pages: 1)), "delivered", Wait);
        var refreshes = s.Emulator.State.Tokens.RefreshCount;
        Assert.True(refreshes >= 1);

        // The server forgets every access token (e.g. restarted with a new key): the next call gets a 401, refreshes once, and goes on.
        s.Emulator.State.Tokens.InvalidateAccessTokens();
        var export = await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(pages: 1)), "delivered", Wait);

        Assert.Equal(1, export.GetProperty("attempts").GetInt32());
        Assert.Equal(refreshes + 1, s.Emulator.State.Tokens.RefreshCount);
        Assert.Contains(s.Emulator.Requests.Snapshot(), r => r.Status == 401);
        Assert.All(s.Emulator.Requests.Snapshot().Where(r => r.Path.StartsWith("/api/", StringComparison.Ordinal) && !r.Path.StartsWith("/api/token/", StringComparison.Ordinal)),
            r => Assert.Equal("Bearer", r.AuthScheme));
        Assert.NotEqual(CredentialStatus.Rejected, s.Bridge.Services.GetRequiredService<CredentialState>().Current.Status);
    }

    [Fact]
    [Trait("Req", "DEG-2")]
    public async Task A_revoked_personal_access_token_is_reported_as_rejected_credentials_and_recovers()
    {
        await using var s = await Scenario.StartAsync(apiKey: e => e.State.Tokens.IssuePersonalAccessToken(),
            emulatorSettings: new EmulatorSettings { AccessTokenLifetimeSeconds = 1 });
        s.Emulator.Faults.CredentialsRevoked = true;

        // Whatever talks to Label Studio next (the start-up probe or this export's delivery) meets the revoked PAT.
        using (await s.Client.PostAsync(new Uri($"/api/documents/{s.AddDocument(1)}/exports/label-studio", UriKind.Relative), null))
        {
        }

        await Eventually.UntilAsync(() => s.Bridge.Services.GetRequiredService<CredentialState>().IsRejected, Wait, "the bridge finds the PAT rejected");
        using var refused = await s.Client.PostAsync(new Uri($"/api/documents/{s.AddDocument(1)}/exports/label-studio", UriKind.Relative), null);
        await ExportDeliveryTests.AssertProblem(refused, HttpStatusCode.ServiceUnavailable, "label_studio_credentials_rejected");

        s.Emulator.Faults.CredentialsRevoked = false;
        await Eventually.UntilAsync(async () =>
        {
            using var response = await s.Client.PostAsync(new Uri($"/api/documents/{s.AddDocument(1)}/exports/label-studio", UriKind.Relative), null);
            return response.StatusCode == HttpStatusCode.Accepted;
        }, Wait, "exports are accepted again once the PAT works");
    }
}

/// <summary>Secrets stay out of logs and answers.</summary>
public sealed class SecretTests
{
    [Fact]
    [Trait("Req", "SEC-2")]
    public async Task The_API_key_access_tokens_and_webhook_secret_never_appear_in_logs_or_answers()
    {
        string pat = "";
        await using var s = await Scenario.StartAsync(c =>
        {
            foreach (var category in new[] { "Default", "System.Net.Http.HttpClient", "Microsoft.Extensions.Http", "Polly", "Microsoft.AspNetCore" })
            {
                c["Logging:LogLevel:" + category] = "Trace";
            }
        }, apiKey: e => pat = e.State.Tokens.IssuePersonalAccessToken());
        var id = s.AddDocument(pages: 1);
        var exportId = await s.RequestExportAsync(id);
        await s.WaitForExportAsync(exportId, "delivered", TimeSpan.FromSeconds(20));
        await s.Emulator.Actions.CreateAnnotationAsync(Assert.Single(s.TasksOf(id)).Id, new System.Text.Json.Nodes.JsonArray());
        s.Emulator.Faults.CredentialsRevoked = true;
        using (await s.Client.PostAsync(new Uri($"/api/documents/{s.AddDocument(1)}/exports/label-studio", UriKind.Relative), null))
        {
        }

        await Eventually.UntilAsync(() => s.Bridge.Services.GetRequiredService<CredentialState>().IsRejected, TimeSpan.FromSeconds(20), "credentials rejected");
        var answers = await s.Client.GetStringAsync(new Uri("/api/exports/" + exportId, UriKind.Relative)) +
                      await s.Client.GetStringAsync(new Uri("/health/ready", UriKind.Relative)) +
                      await s.Client.GetStringAsync(new Uri($"/api/documents/{id}/annotations", UriKind.Relative));

        var logs = string.Join("\n", s.Bridge.Logs.Lines);
        Assert.NotEmpty(s.Bridge.Logs.Lines);
        Assert.Contains("REJECTED", logs, StringComparison.Ordinal);
        // HttpClient logging is switched off (its structured state holds raw header values), even at Trace.
        Assert.DoesNotContain("Request Headers", logs, StringComparison.Ordinal);
        foreach (var secret in new[] { pat, pat.Split('.')[2], Scenario.WebhookSecret })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, answers, StringComparison.Ordinal);
        }
    }
}
