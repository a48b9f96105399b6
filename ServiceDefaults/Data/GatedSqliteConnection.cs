using Microsoft.Data.Sqlite;

namespace Suite.ServiceDefaults.Data;

/// <summary>A connection that holds a slot of its database's <see cref="ConnectionGate"/> until it is closed or disposed, once.</summary>
internal sealed class GatedSqliteConnection(string connectionString, ConnectionGate gate) : SqliteConnection(connectionString)
{
    private int _left;

    public override void Close()
    {
        try
        {
            base.Close();
        }
        finally
        {
            LeaveGate();
        }
    }

    protected override void Dispose(bool disposing)
    {
        try
        {
            base.Dispose(disposing);
        }
        finally
        {
            LeaveGate();
        }
    }

    private void LeaveGate()
    {
        if (Interlocked.Exchange(ref _left, 1) == 0)
        {
            gate.Leave();
        }
    }
}
