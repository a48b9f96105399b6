using System.ComponentModel.DataAnnotations;

namespace Gateway.FrontDoor;

/// <summary>
/// The clients allowed through the gateway (section <c>Gateway</c>): each a name, which is the client's identity in
/// logs, traces, metrics and rate limits, and a key, which is never written anywhere.
/// </summary>
public sealed class ApiKeyOptions
{
    public const string Section = "Gateway";

    public List<ApiClient> ApiKeys { get; init; } = [];
}

public sealed class ApiClient
{
    [Required]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", ErrorMessage = "A client name is 1 to 64 letters, digits, '.', '_' or '-'.")]
    public string Name { get; init; } = "";

    [Required]
    [MinLength(ApiKeyRules.MinimumKeyLength)]
    public string Key { get; init; } = "";
}

public static class ApiKeyRules
{
    public const int MinimumKeyLength = 12;

    /// <summary>The development key the AppHost uses when the gateway-api-key parameter is not set (documented).</summary>
    public const string DevelopmentKey = "suite-dev-key";

    public static string? Validate(ApiKeyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ApiKeys.Count == 0)
        {
            return "Gateway:ApiKeys is empty, so no client could call the gateway. Configure at least one named key: " +
                   "Gateway:ApiKeys:0:Name and Gateway:ApiKeys:0:Key (environment Gateway__ApiKeys__0__Name / Gateway__ApiKeys__0__Key). " +
                   "Under the AppHost the key comes from the parameter gateway-api-key.";
        }

        foreach (var client in options.ApiKeys)
        {
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(client, new ValidationContext(client), results, validateAllProperties: true))
            {
                return $"Gateway:ApiKeys entry '{client.Name}' is invalid: {string.Join(" ", results.Select(r => r.ErrorMessage))} " +
                       $"Keys are at least {MinimumKeyLength} characters.";
            }
        }

        var duplicateName = options.ApiKeys.GroupBy(c => c.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicateName is not null)
        {
            return $"Gateway:ApiKeys names client '{duplicateName.Key}' more than once; client names must be unique.";
        }

        return options.ApiKeys.GroupBy(c => c.Key, StringComparer.Ordinal).Any(g => g.Count() > 1)
            ? "Gateway:ApiKeys gives two clients the same key; each client needs its own key."
            : null;
    }
}
