namespace Backprop.Caffe.Lmdb;

/// <summary>
/// A Caffe database being written in a temporary directory beside its output (an LMDB, <see cref="PendingLmdb"/>, or a
/// LevelDB, <see cref="LevelDb.PendingLevelDb"/>): <see cref="Commit"/> renames it into place; disposing without
/// committing deletes it, so an interrupted write leaves nothing that looks finished.
/// </summary>
internal interface IPendingDatabase : IDisposable
{
    /// <summary>Adds one record (a serialized Datum); keys come in increasing byte order.</summary>
    void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Completes the database and moves it into place.</summary>
    void Commit();
}
