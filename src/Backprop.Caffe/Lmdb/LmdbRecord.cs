using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Lmdb;

/// <summary>One record of a Caffe LMDB: its key (e.g. <c>00000042</c>) and the <see cref="Proto.Datum"/> stored under it.</summary>
public readonly record struct LmdbRecord(string Key, Datum Datum);
