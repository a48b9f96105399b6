using System.Globalization;
using Microsoft.Extensions.Options;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// How one SQLite database is backed up (a section such as <c>Catalog:Backups</c> or <c>Outbox:Backups</c>). Bound as
/// named options, the name being the database's (<c>catalog</c>, <c>outbox</c>), and validated at start-up.
/// </summary>
public sealed class SqliteBackupOptions
{
    /// <summary>Periodic backups on (the admin route and the restore command work either way).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Time between two periodic backups.</summary>
    public double IntervalSeconds { get; set; } = 15 * 60;

    /// <summary>Time from the end of start-up to the first periodic backup (short, so a fresh service soon has one).</summary>
    public double FirstBackupDelaySeconds { get; set; } = 60;

    /// <summary>Where the backups go; default a <c>backups</c> folder beside the database. A relative path is taken from the working directory.</summary>
    public string? Folder { get; set; }

    /// <summary>How many backups are kept: after each successful backup the older ones are deleted.</summary>
    public int Retain { get; set; } = 8;

    public TimeSpan Interval => TimeSpan.FromSeconds(IntervalSeconds);

    public TimeSpan FirstBackupDelay => TimeSpan.FromSeconds(FirstBackupDelaySeconds);

    /// <summary>The backup folder of the database at <paramref name="databasePath"/>, as an absolute path.</summary>
    public string ResolveFolder(string databasePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        return string.IsNullOrWhiteSpace(Folder)
            ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(databasePath))!, "backups")
            : Path.GetFullPath(Folder);
    }

    /// <summary>What is wrong with these settings, naming the key under <paramref name="section"/>; null when nothing is.</summary>
    public string? Problem(string section)
    {
        if (!(IntervalSeconds >= 1))
        {
            return $"{section}:IntervalSeconds must be at least 1 (it is {IntervalSeconds.ToString(CultureInfo.InvariantCulture)}).";
        }

        if (!(FirstBackupDelaySeconds >= 0))
        {
            return $"{section}:FirstBackupDelaySeconds must be 0 or more (it is {FirstBackupDelaySeconds.ToString(CultureInfo.InvariantCulture)}).";
        }

        if (Retain < 1)
        {
            return $"{section}:Retain must be at least 1 (it is {Retain.ToString(CultureInfo.InvariantCulture)}): the newest backup is always kept.";
        }

        return null;
    }
}

/// <summary>Validates one database's <see cref="SqliteBackupOptions"/> (its name) and leaves the others' alone.</summary>
internal sealed class SqliteBackupOptionsValidator(string name, string section) : IValidateOptions<SqliteBackupOptions>
{
    public ValidateOptionsResult Validate(string? optionsName, SqliteBackupOptions options)
    {
        if (!string.Equals(optionsName, name, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        return options.Problem(section) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}
