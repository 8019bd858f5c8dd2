namespace Backprop.Detection;

/// <summary>
/// torchvision's (0.14) BoxCoder: turns boxes into regression targets relative to reference boxes (anchors or
/// proposals) and back. Boxes are (x1, y1, x2, y2) with width x2 − x1 (no +1) and centre x1 + 0.5·width.
/// </summary>
/// <remarks>
/// Encode, for a ground-truth box g and a proposal p: <c>dx = wx·(gcx − pcx)/pw</c>, <c>dy = wy·(gcy − pcy)/ph</c>,
/// <c>dw = ww·ln(gw/pw)</c>, <c>dh = wh·ln(gh/ph)</c>.
/// Decode, for deltas d and a box p: <c>cx = (dx/wx)·pw + pcx</c>, <c>w = exp(min(dw/ww, clip))·pw</c> (likewise y, h),
/// box = <c>(cx − 0.5w, cy − 0.5h, cx + 0.5w, cy + 0.5h)</c>. Float32 throughout, in torchvision's order of operations.
/// <para>Degenerate values, as torchvision: decoding clamps dw and dh at <see cref="BoxTransformClip"/> before exp, so a
/// huge or +∞ delta gives a finite box (−∞ gives width 0); a NaN delta gives NaN coordinates in its own row and
/// nowhere else (torch.clamp keeps NaN). Encoding a proposal of zero width or height divides by zero (±∞ or NaN
/// targets in that row): callers drop such proposals first, as torchvision's RPN removes boxes below a minimum size
/// (a NaN box fails every size test and is dropped there too). Every row is computed from its own inputs only.</para>
/// Non-differentiable: inputs are read as values and results are plain tensors.
/// </remarks>
public sealed class BoxCoder
{
    /// <summary>ln(1000 / 16): the largest dw, dh decoded (a box grows at most 62.5-fold).</summary>
    public const float DefaultBoxTransformClip = 4.1351666f;

    private readonly float wx, wy, ww, wh;

    /// <param name="weights">Multipliers of the four targets; torchvision's RPN uses (1, 1, 1, 1), its RoI heads (10, 10, 5, 5).</param>
    /// <param name="boxTransformClip">Upper clamp of dw/ww and dh/wh when decoding.</param>
    public BoxCoder((float X, float Y, float Width, float Height) weights, float boxTransformClip = DefaultBoxTransformClip)
    {
        foreach (var (name, value) in new[] { ("X", weights.X), ("Y", weights.Y), ("Width", weights.Width), ("Height", weights.Height) })
            if (!(value > 0) || !float.IsFinite(value))
                throw new ArgumentException($"BoxCoder weight {name} must be positive and finite, got {value}.", nameof(weights));
        if (float.IsNaN(boxTransformClip))
            throw new ArgumentException("BoxCoder boxTransformClip must not be NaN.", nameof(boxTransformClip));
        (wx, wy, ww, wh) = weights;
        Weights = weights;
        BoxTransformClip = boxTransformClip;
    }

    public (float X, float Y, float Width, float Height) Weights { get; }

    public float BoxTransformClip { get; }

    /// <summary>
    /// Regression targets (N, 4) as (dx, dy, dw, dh) that take each proposal to its reference box.
    /// </summary>
    /// <param name="referenceBoxes">(N, 4) the boxes to reach (matched ground truth).</param>
    /// <param name="proposals">(N, 4) the boxes to start from (anchors or proposals).</param>
    public Tensor Encode(Tensor referenceBoxes, Tensor proposals)
    {
        int n = CheckBoxes(referenceBoxes, nameof(referenceBoxes), "Encode");
        int m = CheckBoxes(proposals, nameof(proposals), "Encode");
        if (n != m)
            throw new ArgumentException($"BoxCoder.Encode needs as many reference boxes as proposals, got {referenceBoxes.Shape} and {proposals.Shape}.");
        var g = referenceBoxes.ToArray();   // g: (N, 4)
        var p = proposals.ToArray();        // p: (N, 4)
        var t = new float[n * 4];           // t: (N, 4)
        for (int i = 0; i < n * 4; i += 4)
        {
            float pw = p[i + 2] - p[i], ph = p[i + 3] - p[i + 1];
            float pcx = p[i] + 0.5f * pw, pcy = p[i + 1] + 0.5f * ph;
            float gw = g[i + 2] - g[i], gh = g[i + 3] - g[i + 1];
            float gcx = g[i] + 0.5f * gw, gcy = g[i + 1] + 0.5f * gh;
            t[i] = wx * (gcx - pcx) / pw;
            t[i + 1] = wy * (gcy - pcy) / ph;
            t[i + 2] = ww * MathF.Log(gw / pw);
            t[i + 3] = wh * MathF.Log(gh / ph);
        }
        return Tensor.FromArray(t, n, 4);
    }

    /// <summary>
    /// Applies deltas (N, 4·k) — k sets of (dx, dy, dw, dh), e.g. one per class — to boxes (N, 4): (N, 4·k) boxes,
    /// torchvision's decode_single.
    /// </summary>
    public Tensor Decode(Tensor deltas, Tensor boxes)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        int n = CheckBoxes(boxes, nameof(boxes), "Decode");
        if (deltas.Rank != 2 || deltas.Shape[0] != n || deltas.Shape[1] % 4 != 0)
            throw new ArgumentException($"BoxCoder.Decode needs deltas of shape (N, 4k) with N = {n} boxes, got {deltas.Shape}.", nameof(deltas));
        int cols = deltas.Shape[1];
        var d = deltas.ToArray();   // d: (N, 4k)
        var b = boxes.ToArray();    // b: (N, 4)
        var y = new float[n * cols];  // y: (N, 4k)
        for (int i = 0; i < n; i++)
        {
            float w = b[4 * i + 2] - b[4 * i], h = b[4 * i + 3] - b[4 * i + 1];
            float cx = b[4 * i] + 0.5f * w, cy = b[4 * i + 1] + 0.5f * h;
            for (int j = i * cols; j < (i + 1) * cols; j += 4)
            {
                float dx = d[j] / wx, dy = d[j + 1] / wy;
                float dw = ClampMax(d[j + 2] / ww), dh = ClampMax(d[j + 3] / wh);
                float pcx = dx * w + cx, pcy = dy * h + cy;
                float halfW = 0.5f * (MathF.Exp(dw) * w), halfH = 0.5f * (MathF.Exp(dh) * h);
                y[j] = pcx - halfW;
                y[j + 1] = pcy - halfH;
                y[j + 2] = pcx + halfW;
                y[j + 3] = pcy + halfH;
            }
        }
        return Tensor.FromArray(y, n, cols);
    }

    /// <summary>torch.clamp(v, max=clip): NaN stays NaN.</summary>
    private float ClampMax(float v) => float.IsNaN(v) ? v : MathF.Min(v, BoxTransformClip);

    private static int CheckBoxes(Tensor boxes, string name, string method)
    {
        ArgumentNullException.ThrowIfNull(boxes, name);
        if (boxes.Rank != 2 || boxes.Shape[1] != 4)
            throw new ArgumentException($"BoxCoder.{method} needs {name} of shape (N, 4), got {boxes.Shape}.", name);
        return boxes.Shape[0];
    }

    public override string ToString() => $"BoxCoder(weights=({wx}, {wy}, {ww}, {wh}){(BoxTransformClip == DefaultBoxTransformClip ? "" : $", clip={BoxTransformClip}")})";
}
