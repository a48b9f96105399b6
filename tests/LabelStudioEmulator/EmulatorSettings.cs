namespace LabelStudioEmulator;

/// <summary>Settings of one emulator instance (section <c>Emulator</c> when run as a process).</summary>
public sealed class EmulatorSettings
{
    /// <summary>The legacy API token accepted as <c>Authorization: Token ...</c>; generated when empty.</summary>
    public string LegacyToken { get; set; } = "";

    /// <summary>Lifetime of access JWTs issued by POST /api/token/refresh/ (Label Studio: about 5 minutes).</summary>
    public double AccessTokenLifetimeSeconds { get; set; } = 300;

    /// <summary>Answer imports like non-Community editions: <c>{"import": id}</c>, followed by polling.</summary>
    public bool AsyncImports { get; set; }

    /// <summary>How long an asynchronous import reports <c>in_progress</c> before <c>completed</c>.</summary>
    public double AsyncImportCompletionSeconds { get; set; } = 0.3;

    /// <summary>Label Studio's WEBHOOK_TIMEOUT.</summary>
    public double WebhookTimeoutSeconds { get; set; } = 5;

    /// <summary>The Label Studio version this emulator reports.</summary>
    public string Version { get; set; } = "1.21.0";
}
