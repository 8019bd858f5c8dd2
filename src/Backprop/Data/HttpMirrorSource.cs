namespace Backprop.Data;

/// <summary>
/// Fetches dataset files from a web mirror that serves them gzipped as <c>&lt;base&gt;&lt;name&gt;.gz</c>
/// (the layout of the usual MNIST mirrors). Each download has a timeout and a size limit.
/// </summary>
public sealed class HttpMirrorSource : IDatasetSource
{
    private readonly HttpMessageHandler? handler;

    /// <param name="baseUri">The folder URL, ending in '/'.</param>
    /// <param name="timeout">How long one file may take, connection included.</param>
    /// <param name="handler">The HTTP handler to use; null for a default one with a 10-second connect timeout.</param>
    public HttpMirrorSource(Uri baseUri, TimeSpan timeout, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        BaseUri = baseUri.AbsoluteUri.EndsWith('/') ? baseUri : new Uri(baseUri.AbsoluteUri + "/");
        Timeout = timeout;
        this.handler = handler;
    }

    public Uri BaseUri { get; }
    public TimeSpan Timeout { get; }

    public string Description => BaseUri.AbsoluteUri;

    public void Fetch(IReadOnlyList<DatasetFile> files, string directory, IProgress<string>? log, CancellationToken cancellationToken)
    {
        using var client = handler is null
            ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
            : new HttpClient(handler, disposeHandler: false);
        client.Timeout = System.Threading.Timeout.InfiniteTimeSpan; // a per-file timeout below
        var failures = new List<string>();
        foreach (var file in files)
        {
            var uri = new Uri(BaseUri, file.Name + ".gz");
            try
            {
                log?.Report($"downloading {uri}");
                Download(client, uri, file, Path.Combine(directory, file.Name + ".gz"), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or InvalidDataException)
            {
                failures.Add($"{file.Name}.gz: {(e is OperationCanceledException ? $"timed out after {Timeout.TotalSeconds:0} s" : e.Message)}");
                // The server cannot be reached (no answer, no name): the other files would fail the same way, slowly.
                if (e is OperationCanceledException || (e is HttpRequestException { StatusCode: null }))
                {
                    if (file != files[^1]) failures.Add("the other files were not tried");
                    break;
                }
            }
        }
        if (failures.Count > 0) throw new IOException(string.Join("; ", failures));
    }

    private void Download(HttpClient client, Uri uri, DatasetFile file, string destination, CancellationToken cancellationToken)
    {
        // A gzipped IDX file is smaller than its data; allow some slack for incompressible content.
        long limit = file.Length + (1 << 20);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        using var response = client.Send(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        if (response.Content.Headers.ContentLength is long declared && declared > limit)
            throw new InvalidDataException($"the server offers {declared} bytes, more than the {limit} expected at most");
        using var body = response.Content.ReadAsStream(timeout.Token);
        using var output = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[1 << 16];
        long total = 0;
        while (true)
        {
            int n = body.ReadAsync(buffer, timeout.Token).AsTask().GetAwaiter().GetResult();
            if (n == 0) break;
            total += n;
            if (total > limit) throw new InvalidDataException($"the download exceeds the {limit} bytes expected at most");
            output.Write(buffer, 0, n);
        }
    }
}
