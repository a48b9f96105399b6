using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Tokens;

namespace Suite.PipelineWorker.Pdf;

/// <summary>
/// Decides whether an encrypted PDF opens for a reader without a password, i.e. whether its user password is
/// empty (PDF 32000-2, 7.6.4.4, algorithms 6, 11 and 2.B). PdfPig alone is not enough: it also accepts the empty
/// string as the owner password, so a file protected by a user password but with an empty owner password
/// (pypdf's R6 sample) opens in PdfPig although its author meant it to be locked.
/// </summary>
internal static class StandardSecurity
{
    private static readonly byte[] Padding =
    [
        0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
        0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
    ];

    /// <summary>
    /// True when the document is not encrypted, or is encrypted with the standard handler and an empty user password.
    /// False for a non-empty user password, another security handler, or an encryption dictionary we cannot read.
    /// </summary>
    public static bool OpensWithoutPassword(PdfDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (!document.IsEncrypted)
        {
            return true;
        }

        var encrypt = Resolve(document, document.Structure.Trailer.EncryptionToken) as DictionaryToken;
        if (encrypt is null
            || Get<NameToken>(document, encrypt, "Filter")?.Data != "Standard"
            || !TryGetInt(document, encrypt, "R", out var revision)
            || !TryGetBytes(document, encrypt, "O", out var owner)
            || !TryGetBytes(document, encrypt, "U", out var user))
        {
            return false;
        }

        return revision switch
        {
            2 or 3 or 4 => EmptyUserPasswordRc4(document, encrypt, revision, owner, user),
            5 => user.Length >= 40 && SHA256.HashData(user.AsSpan(32, 8)).AsSpan().SequenceEqual(user.AsSpan(0, 32)),
            6 => user.Length >= 40 && HardenedHash(user.AsSpan(32, 8)).AsSpan().SequenceEqual(user.AsSpan(0, 32)),
            _ => false,
        };
    }

    /// <summary>Algorithms 2, 4 and 5 (RC4 and AES-128 handlers) with the empty password.</summary>
    [SuppressMessage("Security", "CA5351:Do Not Use Broken Cryptographic Algorithms",
        Justification = "MD5 is what the PDF standard security handler (revisions 2-4) prescribes; we only verify a file's password, we do not protect data with it.")]
    private static bool EmptyUserPasswordRc4(PdfDocument document, DictionaryToken encrypt, int revision, byte[] owner, byte[] user)
    {
        if (owner.Length < 32 || user.Length < 32 || !TryGetInt(document, encrypt, "P", out var permissions))
        {
            return false;
        }

        var identifiers = document.Structure.Trailer.Identifier;
        var firstId = identifiers is { Count: > 0 } && identifiers[0] is IToken idToken && TryGetBytes(idToken, out var id) ? id : [];
        var keyLength = revision == 2 ? 5 : (TryGetInt(document, encrypt, "Length", out var bits) ? bits : 40) / 8;
        if (keyLength is < 5 or > 16)
        {
            return false;
        }

        var encryptMetadata = Get<BooleanToken>(document, encrypt, "EncryptMetadata")?.Data ?? true;

        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        md5.AppendData(Padding);
        md5.AppendData(owner, 0, 32);
        Span<byte> p = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(p, permissions);
        md5.AppendData(p);
        md5.AppendData(firstId);
        if (revision >= 4 && !encryptMetadata)
        {
            md5.AppendData([0xFF, 0xFF, 0xFF, 0xFF]);
        }

        var hash = md5.GetHashAndReset();
        if (revision >= 3)
        {
            for (var i = 0; i < 50; i++)
            {
                hash = MD5.HashData(hash.AsSpan(0, keyLength));
            }
        }

        var key = hash.AsSpan(0, keyLength).ToArray();
        if (revision == 2)
        {
            return Rc4(key, Padding).AsSpan().SequenceEqual(user.AsSpan(0, 32));
        }

        md5.AppendData(Padding);
        md5.AppendData(firstId);
        var check = Rc4(key, md5.GetHashAndReset());
        var roundKey = new byte[key.Length];
        for (var round = 1; round <= 19; round++)
        {
            for (var k = 0; k < key.Length; k++)
            {
                roundKey[k] = (byte)(key[k] ^ round);
            }

            check = Rc4(roundKey, check);
        }

        return check.AsSpan().SequenceEqual(user.AsSpan(0, 16));
    }

    /// <summary>Algorithm 2.B (revision 6) for the empty password and no user key data.</summary>
    private static byte[] HardenedHash(ReadOnlySpan<byte> salt)
    {
        var k = SHA256.HashData(salt);
        using var aes = Aes.Create();
        for (var round = 0; ; round++)
        {
            // K1 = (password + K + userData) repeated 64 times; password and user data are empty here.
            var k1 = new byte[k.Length * 64];
            for (var i = 0; i < 64; i++)
            {
                k.CopyTo(k1, i * k.Length);
            }

            aes.Key = k.AsSpan(0, 16).ToArray();
            var e = aes.EncryptCbc(k1, k.AsSpan(16, 16), PaddingMode.None);
            var mod = 0;
            for (var i = 0; i < 16; i++)
            {
                mod += e[i];
            }

            k = (mod % 3) switch
            {
                0 => SHA256.HashData(e),
                1 => SHA384.HashData(e),
                _ => SHA512.HashData(e),
            };

            if (round >= 63 && e[^1] <= round - 31)
            {
                return k.AsSpan(0, 32).ToArray();
            }
        }
    }

    private static byte[] Rc4(byte[] key, byte[] data)
    {
        var s = new byte[256];
        for (var i = 0; i < 256; i++)
        {
            s[i] = (byte)i;
        }

        for (int i = 0, j = 0; i < 256; i++)
        {
            j = (j + s[i] + key[i % key.Length]) & 0xFF;
            (s[i], s[j]) = (s[j], s[i]);
        }

        var output = new byte[data.Length];
        for (int n = 0, i = 0, j = 0; n < data.Length; n++)
        {
            i = (i + 1) & 0xFF;
            j = (j + s[i]) & 0xFF;
            (s[i], s[j]) = (s[j], s[i]);
            output[n] = (byte)(data[n] ^ s[(s[i] + s[j]) & 0xFF]);
        }

        return output;
    }

    private static IToken? Resolve(PdfDocument document, IToken? token) => token switch
    {
        IndirectReferenceToken reference => document.Structure.GetObject(reference.Data)?.Data,
        _ => token,
    };

    private static T? Get<T>(PdfDocument document, DictionaryToken dictionary, string key)
        where T : class, IToken =>
        dictionary.TryGet(NameToken.Create(key), out var token) ? Resolve(document, token) as T : null;

    private static bool TryGetInt(PdfDocument document, DictionaryToken dictionary, string key, out int value)
    {
        var number = Get<NumericToken>(document, dictionary, key);
        value = number is null ? 0 : (int)number.Long;
        return number is not null;
    }

    private static bool TryGetBytes(PdfDocument document, DictionaryToken dictionary, string key, out byte[] value)
    {
        value = [];
        var token = Get<IToken>(document, dictionary, key);
        return token is not null && TryGetBytes(token, out value);
    }

    private static bool TryGetBytes(IToken token, out byte[] value)
    {
        switch (token)
        {
            case HexToken hex:
                value = [.. hex.Bytes];
                return true;
            case StringToken text:
                value = text.GetBytes();
                return true;
            default:
                value = [];
                return false;
        }
    }
}
