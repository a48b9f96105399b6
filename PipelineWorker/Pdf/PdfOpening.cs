using Suite.PipelineWorker.Stages;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Exceptions;

namespace Suite.PipelineWorker.Pdf;

/// <summary>Opens PDFs with PdfPig the same way in every stage, and turns its exceptions into failure codes.</summary>
internal static class PdfOpening
{
    private static ParsingOptions Options => new()
    {
        UseLenientParsing = true,
        SkipMissingFonts = true,
    };

    /// <summary>
    /// Opens the file, or throws a <see cref="PipelineFailure"/>: <c>encrypted</c> when it needs a password,
    /// <c>corrupt_structure</c> when PdfPig cannot parse it.
    /// </summary>
    public static PdfDocument Open(string path)
    {
        // Reading the bytes ourselves keeps local I/O errors (transient) apart from parse errors (permanent).
        var bytes = File.ReadAllBytes(path);
        PdfDocument? document = null;
        try
        {
            document = PdfDocument.Open(bytes, Options);
            if (!StandardSecurity.OpensWithoutPassword(document))
            {
                throw EncryptedFailure(null);
            }

            var opened = document;
            document = null;
            return opened;
        }
        catch (PdfDocumentEncryptedException ex)
        {
            throw EncryptedFailure(ex);
        }
        catch (Exception ex) when (IsParseError(ex))
        {
            throw new PipelineFailure(
                FailureCodes.CorruptStructure,
                $"The PDF structure is damaged and cannot be read ({Describe(ex)}). Re-export or repair the file and upload it again.",
                ex);
        }
        finally
        {
            document?.Dispose();
        }
    }

    /// <summary>
    /// PdfPig reports damaged input with many exception types (its own format exceptions, but also
    /// IndexOutOfRange, InvalidCast, KeyNotFound, Overflow, Argument, InvalidOperation, EndOfStream...).
    /// Everything except cancellation, our own failures and resource exhaustion is a property of the file.
    /// </summary>
    public static bool IsParseError(Exception exception) =>
        exception is not (OperationCanceledException or PipelineFailure or OutOfMemoryException or InsufficientExecutionStackException);

    public static string Describe(Exception exception) =>
        exception.GetType().Name + ": " + Truncate(exception.Message.ReplaceLineEndings(" "), 200);

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "...";

    private static PipelineFailure EncryptedFailure(Exception? inner) => new(
        FailureCodes.Encrypted,
        "The PDF is protected by a password. Remove the password protection (or save an unprotected copy) and upload it again.",
        inner);
}
