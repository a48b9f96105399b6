using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;

namespace IngestService.Catalog;

/// <summary>
/// The catalog database's settings (section <c>Catalog</c>): busy timeout, command timeout, connection bound, busy
/// retries and the write breaker of read-only mode; see <see cref="SqliteDatabaseOptions"/> for their defaults.
/// </summary>
internal sealed class CatalogOptions : SqliteDatabaseOptions
{
    public const string Section = "Catalog";
}

/// <summary>Start-up validation: a value out of range stops the service with a message naming the key.</summary>
internal sealed class CatalogOptionsValidator : IValidateOptions<CatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, CatalogOptions options)
    {
        var failures = SqliteDatabaseOptionsValidation.Failures(options, CatalogOptions.Section);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
