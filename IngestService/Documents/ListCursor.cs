using System.Buffers.Text;
using System.Text;
using IngestService.Catalog;

namespace IngestService.Documents;

/// <summary>
/// The opaque list cursor: the (created_at, id) of the last item of a page, base64url-encoded. Clients pass it back
/// unchanged; anything else is refused (400 invalid_cursor).
/// </summary>
internal static class ListCursor
{
    public static string Encode(DocumentRecord last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(last.CreatedAtRaw + "|" + last.Id));

    public static bool TryDecode(string? cursor, out (string CreatedAt, string Id) position)
    {
        position = default;
        if (string.IsNullOrEmpty(cursor) || cursor.Length > 200)
        {
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(bytes);
        var bar = text.IndexOf('|', StringComparison.Ordinal);
        if (bar < 0)
        {
            return false;
        }

        var createdAt = text[..bar];
        var id = text[(bar + 1)..];
        if (!DocumentId.IsValid(id) || !CatalogTime.TryParse(createdAt, out var parsed) || CatalogTime.ToText(parsed) != createdAt)
        {
            return false;
        }

        position = (createdAt, id);
        return true;
    }
}
