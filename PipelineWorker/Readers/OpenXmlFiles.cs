using System.Xml;
using DocumentFormat.OpenXml.Packaging;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// What the DOCX and PPTX readers share: opening the checked copy (<see cref="SafePackage"/>) read-only with a cap on
/// each part's characters, refusing relationships to content outside the file, translating the SDK's exceptions into
/// failure codes, and copying an embedded picture's bytes out, bounded.
/// </summary>
internal static class OpenXmlFiles
{
    /// <summary>
    /// External relationships that pull nothing into the document: hyperlinks (kept as their text) and the template a
    /// Word file names (metadata; Word itself only looks it up locally). Nothing external is ever fetched.
    /// </summary>
    private static readonly string[] HarmlessExternal =
    [
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink",
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate",
    ];

    public static OpenSettings Settings(ReaderOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return new OpenSettings { AutoSave = false, MaxCharactersInPart = limits.MaxZipEntryBytes };
    }

    /// <summary>Runs <paramref name="read"/> on the package, with the SDK's and XML's exceptions as failure codes.</summary>
    public static T Guarded<T>(string format, Func<T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            return read();
        }
        catch (XmlException ex) when (ex.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase))
        {
            throw new PipelineFailure(FailureCodes.XmlEntityExpansion, $"The {format} file declares a document type (DTD), which expands entities; it was refused. Save it again from its application.", ex);
        }
        catch (Exception ex) when (ex is XmlException or OpenXmlPackageException or InvalidDataException or FileFormatException or InvalidOperationException)
        {
            throw new PipelineFailure(FailureCodes.CorruptStructure, $"The {format} file cannot be read ({ex.Message}). Save it again from its application and upload it again.", ex);
        }
    }

    /// <summary>Refuses a package with a relationship to content outside it (an image, object or sub-document by URL or path).</summary>
    public static void RefuseExternalContent(OpenXmlPackage package, string format)
    {
        ArgumentNullException.ThrowIfNull(package);
        var owners = new List<OpenXmlPartContainer> { package };
        owners.AddRange(package.GetAllParts());
        foreach (var owner in owners)
        {
            foreach (var relationship in owner.ExternalRelationships)
            {
                if (!HarmlessExternal.Contains(relationship.RelationshipType, StringComparer.Ordinal))
                {
                    var kind = relationship.RelationshipType[(relationship.RelationshipType.LastIndexOf('/') + 1)..];
                    throw new PipelineFailure(
                        FailureCodes.ExternalReference,
                        $"The {format} file takes content from outside itself (a relationship of type '{kind}' to {relationship.Uri}), which is never fetched. Embed the content in the file and upload it again.");
                }
            }
        }
    }

    /// <summary>Copies the part at <paramref name="uri"/>, at most <paramref name="maxBytes"/>; returns its content type, or null.</summary>
    public static string? CopyPart(OpenXmlPackage package, string uri, string destination, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(package);
        var part = package.GetAllParts().FirstOrDefault(p => string.Equals(p.Uri.OriginalString, uri, StringComparison.Ordinal));
        if (part is null)
        {
            return null;
        }

        using (var from = part.GetStream(FileMode.Open, FileAccess.Read))
        using (var to = File.Create(destination))
        {
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = from.Read(buffer)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    return null;
                }

                to.Write(buffer, 0, read);
            }
        }

        return part.ContentType;
    }
}
