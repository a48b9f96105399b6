using System.ComponentModel.DataAnnotations;

namespace IngestService.Retention;

/// <summary>How long finished documents are kept, and how often expired ones are removed (section <c>Retention</c>).</summary>
internal sealed class RetentionOptions : IValidatableObject
{
    public const string Section = "Retention";

    /// <summary>Kept this long after finishing when the upload does not say <c>retainFor</c>.</summary>
    public TimeSpan Default { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The longest <c>retainFor</c> an upload gets; a longer one is cut to this.</summary>
    public TimeSpan Max { get; set; } = TimeSpan.FromDays(365);

    [Range(1, 86400, ErrorMessage = "Retention:SweepIntervalSeconds must be from 1 to 86400.")]
    public int SweepIntervalSeconds { get; set; } = 60;

    [Range(1, 10000, ErrorMessage = "Retention:BatchSize must be from 1 to 10000.")]
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// Test hook (chaos tests only): the sweeper waits this long between writing a tombstone and removing the files, so
    /// a test can kill the process in that window. Refused unless fault injection is allowed (<see cref="RetentionTestHook"/>).
    /// </summary>
    public int TestPauseAfterTombstoneMs { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Max <= TimeSpan.Zero || Max > TimeSpan.FromDays(36500))
        {
            yield return new ValidationResult("Retention:Max must be more than 0 and at most 100 years (e.g. 365.00:00:00).", [nameof(Max)]);
        }

        if (Default < TimeSpan.Zero || Default > Max)
        {
            yield return new ValidationResult("Retention:Default must be from 0 to Retention:Max.", [nameof(Default)]);
        }

        if (TestPauseAfterTombstoneMs is < 0 or > 600_000)
        {
            yield return new ValidationResult("Retention:TestPauseAfterTombstoneMs must be from 0 to 600000.", [nameof(TestPauseAfterTombstoneMs)]);
        }
    }
}
