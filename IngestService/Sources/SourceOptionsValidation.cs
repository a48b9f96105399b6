using Microsoft.Extensions.Options;

namespace IngestService.Sources;

/// <summary>What the data annotations of <see cref="SourceOptions"/> cannot say (Req SU-1): the allow-list's entries and the timeouts' order.</summary>
internal sealed class SourceOptionsValidation : IValidateOptions<SourceOptions>
{
    public ValidateOptionsResult Validate(string? name, SourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (SourceAllowList.Explain(options.AllowedHosts) is { } bad)
        {
            return ValidateOptionsResult.Fail(bad);
        }

        return options.AttemptTimeoutSeconds > options.TotalTimeoutSeconds
            ? ValidateOptionsResult.Fail("Sources:AttemptTimeoutSeconds must not be longer than Sources:TotalTimeoutSeconds.")
            : ValidateOptionsResult.Success;
    }
}
