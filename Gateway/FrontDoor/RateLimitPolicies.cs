using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gateway.FrontDoor;

/// <summary>One token bucket per client: <see cref="TokenLimit"/> requests at once, refilled by <see cref="TokensPerPeriod"/> every <see cref="PeriodSeconds"/>.</summary>
public sealed class TokenBucketSettings
{
    [Range(1, 1_000_000)]
    public int TokenLimit { get; set; }

    [Range(1, 1_000_000)]
    public int TokensPerPeriod { get; set; }

    [Range(0.01, 3600)]
    public double PeriodSeconds { get; set; } = 1;

    internal TokenBucketRateLimiterOptions ToLimiterOptions() => new()
    {
        TokenLimit = TokenLimit,
        TokensPerPeriod = TokensPerPeriod,
        ReplenishmentPeriod = TimeSpan.FromSeconds(PeriodSeconds),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}

/// <summary>Section <c>Gateway:RateLimits</c>: uploads are limited separately from, and more strictly than, everything else.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Gateway:RateLimits";

    [Required]
    [ValidateObjectMembers]
    public TokenBucketSettings Uploads { get; set; } = new() { TokenLimit = 20, TokensPerPeriod = 2, PeriodSeconds = 1 };

    [Required]
    [ValidateObjectMembers]
    public TokenBucketSettings Requests { get; set; } = new() { TokenLimit = 200, TokensPerPeriod = 100, PeriodSeconds = 1 };
}

[OptionsValidator]
internal sealed partial class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>;

/// <summary>The rate-limiter policies YARP routes name in their RateLimiterPolicy.</summary>
public static class RateLimitPolicies
{
    public const string Uploads = "uploads";
    public const string Requests = "requests";

    internal static void AddClientPolicies(this RateLimiterOptions limiter, RateLimitOptions limits)
    {
        limiter.AddPolicy(Uploads, context => Partition(context, limits.Uploads));
        limiter.AddPolicy(Requests, context => Partition(context, limits.Requests));
        limiter.OnRejected = async (rejected, cancellationToken) =>
        {
            var context = rejected.HttpContext;
            var policy = context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName ?? Requests;
            var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero
                ? after
                : TimeSpan.FromSeconds(1);
            context.RequestServices.GetRequiredService<FrontDoorMetrics>().RateLimited(policy, MetricClientOf(context));
            await GatewayProblems.RateLimited(policy, retryAfter).ExecuteAsync(context);
        };
    }

    /// <summary>The client a request is counted against: its API key's name, else its remote address.</summary>
    internal static string ClientOf(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, Name: { } name }
            ? name
            : "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    /// <summary>
    /// The client as a metric tag: its API key's name, else <see cref="FrontDoorMetrics.Anonymous"/>. Never the remote
    /// address: a series per address would grow with every caller of the open routes (Req PERF-3).
    /// </summary>
    internal static string MetricClientOf(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, Name: { } name } ? name : FrontDoorMetrics.Anonymous;

    // Partitions are per client: bounded by the configured keys, plus one per remote address on the open routes
    // (page images, webhooks), which ASP.NET Core's partitioned limiter drops once its bucket is full and idle (10 s).
    private static RateLimitPartition<string> Partition(HttpContext context, TokenBucketSettings settings) =>
        RateLimitPartition.GetTokenBucketLimiter(ClientOf(context), _ => settings.ToLimiterOptions());
}
