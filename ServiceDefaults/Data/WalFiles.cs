using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// Keeps a database's <c>-wal</c> and <c>-shm</c> files when its last connection closes (SQLITE_FCNTL_PERSIST_WAL).
/// Why: SQLite cannot open a WAL database at all, not even for reading, on a file system that turned read-only once
/// those files are gone (SQLITE_CANTOPEN, found by experiment on a tmpfs remounted read-only); with them kept, reads go
/// on and only writes fail (SQLITE_READONLY), which is what read-only mode needs (Req CB-5).
/// </summary>
internal static partial class WalFiles
{
    private const int SqliteFcntlPersistWal = 10;

    public static void KeepAfterClose(SqliteConnection connection)
    {
        var flag = Marshal.AllocHGlobal(sizeof(int));
        try
        {
            Marshal.WriteInt32(flag, 1);
            // A null schema name means "main".
            _ = FileControl(connection.Handle!, IntPtr.Zero, SqliteFcntlPersistWal, flag);
        }
        finally
        {
            Marshal.FreeHGlobal(flag);
        }
    }

    // SQLitePCLRaw does not wrap sqlite3_file_control; this is the same native library it loaded (e_sqlite3).
    [DllImport("e_sqlite3", EntryPoint = "sqlite3_file_control", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories)]
    private static extern int FileControl(SafeHandle database, IntPtr schema, int operation, IntPtr argument);

    /// <summary>
    /// True when SQLite opened the file read-only although read-write was asked: it does so silently when the file
    /// system refuses writing, and such a pooled connection can never write even after the file system is writable again.
    /// </summary>
    public static bool IsReadOnlyHandle(SqliteConnection connection) =>
        SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1;
}
