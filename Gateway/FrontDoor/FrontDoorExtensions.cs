using Gateway.FrontDoor;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static class FrontDoorExtensions
{
    /// <summary>The authorization policy YARP routes name to require an API key.</summary>
    public const string ApiKeyPolicy = "api-key";

    /// <summary>
    /// API keys (named clients; refuses to start without one) and per-client token-bucket rate limits, the policies the
    /// proxy routes name in their configuration.
    /// </summary>
    public static IHostApplicationBuilder AddFrontDoor(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ApiKeyOptions>()
            .Bind(builder.Configuration.GetSection(ApiKeyOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiKeyOptions>, ApiKeyOptionsValidator>();
        builder.Services.AddOptions<RateLimitOptions>()
            .Bind(builder.Configuration.GetSection(RateLimitOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();

        builder.Services.AddSingleton<FrontDoorMetrics>();
        builder.Services.AddSingleton<ApiKeyRegistry>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyPolicy, policy => policy.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser());
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>()
            .Configure<IOptions<RateLimitOptions>>((limiter, limits) => limiter.AddClientPolicies(limits.Value));
        return builder;
    }

    /// <summary>Ambiguous paths are refused first, then the key is checked, then the client's rate limit.</summary>
    public static WebApplication UseFrontDoor(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAmbiguousPathGuard();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    private sealed class ApiKeyOptionsValidator : IValidateOptions<ApiKeyOptions>
    {
        public ValidateOptionsResult Validate(string? name, ApiKeyOptions options) =>
            ApiKeyRules.Validate(options) is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
