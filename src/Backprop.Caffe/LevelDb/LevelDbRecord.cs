using Backprop.Caffe.Proto;

namespace Backprop.Caffe.LevelDb;

/// <summary>One record of a Caffe LevelDB: its key (e.g. <c>00000042</c>) and the <see cref="Proto.Datum"/> stored under it.</summary>
public readonly record struct LevelDbRecord(string Key, Datum Datum);
