namespace Backprop.Caffe;

/// <summary>The Caffe front-end's version of the file formats it reads and writes.</summary>
public static class CaffeFrontEnd
{
    /// <summary>Caffe release whose schema (caffe.proto field numbers) these files follow.</summary>
    public const string CaffeSchemaVersion = "1.0";
}
