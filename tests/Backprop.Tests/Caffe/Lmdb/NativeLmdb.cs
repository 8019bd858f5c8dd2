using Backprop.Caffe.Lmdb;
using LightningDB;

namespace Backprop.Tests.Caffe.Lmdb;

/// <summary>
/// The native LMDB 0.9 library (through LightningDB, as Caffe's own C code uses it): writes databases for the
/// managed reader to read, and reads back the managed writer's files. Tests only.
/// </summary>
internal static class NativeLmdb
{
    /// <summary>Puts <paramref name="records"/> in the order given, in transactions of <paramref name="perTransaction"/>.</summary>
    public static void Write(string directory, IEnumerable<(byte[] Key, byte[] Value)> records, int perTransaction = 1000)
    {
        LmdbLibrary.Initialize();
        Directory.CreateDirectory(directory);
        using var environment = new LightningEnvironment(directory, new EnvironmentConfiguration { MapSize = 512L << 20 });
        environment.Open();
        var transaction = environment.BeginTransaction();
        try
        {
            var database = transaction.OpenDatabase();
            int n = 0;
            foreach (var (key, value) in records)
            {
                transaction.Put(database, key, value).ThrowOnError();
                if (++n % perTransaction != 0) continue;
                transaction.Commit().ThrowOnError();
                transaction.Dispose();
                transaction = environment.BeginTransaction();
                database = transaction.OpenDatabase();
            }
            transaction.Commit().ThrowOnError();
        }
        finally
        {
            transaction.Dispose();
        }
    }

    /// <summary>Deletes the records under <paramref name="keys"/> in one transaction.</summary>
    public static void Delete(string directory, IEnumerable<byte[]> keys)
    {
        LmdbLibrary.Initialize();
        using var environment = new LightningEnvironment(directory, new EnvironmentConfiguration { MapSize = 512L << 20 });
        environment.Open();
        using var transaction = environment.BeginTransaction();
        var database = transaction.OpenDatabase();
        foreach (var key in keys) transaction.Delete(database, key).ThrowOnError();
        transaction.Commit().ThrowOnError();
    }

    /// <summary>Every record in key order, and the entry count LMDB reports.</summary>
    public static (List<(byte[] Key, byte[] Value)> Records, long Entries) Read(string directory)
    {
        LmdbLibrary.Initialize();
        using var environment = new LightningEnvironment(directory);
        environment.Open(EnvironmentOpenFlags.ReadOnly);
        using var transaction = environment.BeginTransaction(TransactionBeginFlags.ReadOnly);
        var database = transaction.OpenDatabase();
        using var cursor = transaction.CreateCursor(database);
        var records = new List<(byte[], byte[])>();
        for (var (code, key, value) = cursor.First(); code == MDBResultCode.Success; (code, key, value) = cursor.Next())
            records.Add((key.CopyToNewArray(), value.CopyToNewArray()));
        return (records, transaction.GetEntriesCount(database));
    }
}

/// <summary>The managed reader's view of a database below the Datum level: raw records and the meta page.</summary>
internal static class ManagedLmdb
{
    public static List<(byte[] Key, byte[] Value)> Read(string directory)
    {
        using var file = LmdbDataFile.Open(Path.Combine(directory, "data.mdb"));
        var cursor = new LmdbTreeCursor(file);
        var records = new List<(byte[], byte[])>();
        for (bool more = cursor.First(); more; more = cursor.Next()) records.Add((cursor.Key.ToArray(), cursor.Value.ToArray()));
        return records;
    }

    public static LmdbMeta Meta(string directory)
    {
        using var file = LmdbDataFile.Open(Path.Combine(directory, "data.mdb"));
        return file.Meta;
    }
}
