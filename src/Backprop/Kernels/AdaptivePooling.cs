namespace Backprop.Kernels;

/// <summary>Adaptive average pooling (PyTorch's window rule): output cell i covers [floor(i·in/out), ceil((i+1)·in/out)).</summary>
public static class AdaptivePooling
{
    // x: (P, H, W) planes, y: (P, OH, OW)
    public static void AvgForward(int planes, int h, int w, int oh, int ow, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++)
            {
                int h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh;
                for (int j = 0; j < ow; j++)
                {
                    int w0 = j * w / ow, w1 = ((j + 1) * w + ow - 1) / ow;
                    float s = 0;
                    for (int r = h0; r < h1; r++)
                        for (int c = w0; c < w1; c++) s += x[(p * h + r) * w + c];
                    y[(p * oh + i) * ow + j] = s / ((h1 - h0) * (w1 - w0));
                }
            }
    }

    // dy: (P, OH, OW), dx: (P, H, W) overwritten
    public static void AvgBackward(int planes, int h, int w, int oh, int ow, ReadOnlySpan<float> dy, Span<float> dx)
    {
        dx.Clear();
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++)
            {
                int h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh;
                for (int j = 0; j < ow; j++)
                {
                    int w0 = j * w / ow, w1 = ((j + 1) * w + ow - 1) / ow;
                    float d = dy[(p * oh + i) * ow + j] / ((h1 - h0) * (w1 - w0));
                    for (int r = h0; r < h1; r++)
                        for (int c = w0; c < w1; c++) dx[(p * h + r) * w + c] += d;
                }
            }
    }
}
