namespace IngestService.Webhooks;

/// <summary>
/// An upload's own completion webhook: the callbackUrl it gave and the secret its notifications are signed with,
/// generated for the document and returned once, in the upload's answer (<c>callbackSecret</c>).
/// </summary>
internal sealed record DocumentCallback(string Url, string Secret);
