namespace Backprop.Kernels;

/// <summary>
/// The shapes of a region-of-interest op (RoiAlign, RoiPool). x: (N, C, H, W); rois: (K, 5), rows
/// [image, x1, y1, x2, y2] in input-image coordinates, multiplied by <see cref="SpatialScale"/> to reach
/// the feature map; y: (K, C, PH, PW). Every kernel checks the rows with <see cref="CheckRois"/> before it indexes
/// anything with them.
/// </summary>
public readonly record struct RoiGeometry(int Batch, int Channels, int Height, int Width, int RoiCount,
    int PooledHeight, int PooledWidth, float SpatialScale)
{
    /// <summary>Elements of x: N*C*H*W.</summary>
    public long InputLength => (long)Batch * Channels * Height * Width;

    /// <summary>Elements of y: K*C*PH*PW.</summary>
    public long OutputLength => (long)RoiCount * Channels * PooledHeight * PooledWidth;

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong when the geometry is not usable.</summary>
    public void Validate()
    {
        if (Batch < 1 || Channels < 1 || Height < 1 || Width < 1)
            throw new ArgumentException($"RoI op: input ({Batch}, {Channels}, {Height}, {Width}) must have positive sizes.");
        if (RoiCount < 0) throw new ArgumentException($"RoI op: RoI count {RoiCount} is negative.");
        if (PooledHeight < 1 || PooledWidth < 1)
            throw new ArgumentException($"RoI op: output size ({PooledHeight}, {PooledWidth}) must be positive.");
        if (!float.IsFinite(SpatialScale) || SpatialScale <= 0)
            throw new ArgumentException($"RoI op: spatial scale {SpatialScale} must be positive and finite.");
        if (InputLength > Array.MaxLength || OutputLength > Array.MaxLength)
            throw new ArgumentException($"RoI op: input or output of ({RoiCount}, {Channels}, {PooledHeight}, {PooledWidth}) is too large.");
    }

    /// <summary>Largest |coordinate × scale| accepted: beyond 2^24 a float no longer tells pixels apart.</summary>
    public const float CoordinateLimit = 1 << 24;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the row unless every row of rois (K, 5) has an integral image index
    /// in [0, N) and coordinates whose product with the scale is finite and within ±<see cref="CoordinateLimit"/>.
    /// </summary>
    public void CheckRois(ReadOnlySpan<float> rois, string op = "RoI op")
    {
        CheckLength("rois", rois.Length, 5L * RoiCount);
        for (int k = 0; k < RoiCount; k++)
        {
            float b = rois[k * 5];
            if (!(b >= 0 && b < Batch && b == MathF.Floor(b)))
                throw new ArgumentException(
                    $"{op}: rois row {k} has image index {b}; it must be an integer in [0, {Batch}) for input ({Batch}, {Channels}, {Height}, {Width}).");
            for (int j = 1; j < 5; j++)
                if (!(Math.Abs(rois[k * 5 + j] * SpatialScale) <= CoordinateLimit))
                    throw new ArgumentException(
                        $"{op}: rois row {k} has coordinate {rois[k * 5 + j]} (column {j}); times the spatial scale {SpatialScale} it must be finite and within ±{CoordinateLimit}.");
        }
    }

    /// <summary>
    /// Every RoI kernel's checks before it indexes: the geometry, the input-sized buffer (x or dx), the rows, the
    /// output-sized buffer (y or dy) and, for RoI pooling, the argmax buffer (pass a negative length to skip it).
    /// </summary>
    internal void CheckBuffers(int inputLength, ReadOnlySpan<float> rois, int outputLength, int argmaxLength = -1, bool backward = false)
    {
        Validate();
        CheckLength(backward ? "dx" : "x", inputLength, InputLength);
        CheckRois(rois);
        CheckLength(backward ? "dy" : "y", outputLength, OutputLength);
        if (argmaxLength >= 0) CheckLength("argmax", argmaxLength, OutputLength);
    }

    /// <summary>Checks that a buffer holds exactly <paramref name="expected"/> elements.</summary>
    internal static void CheckLength(string what, int actual, long expected)
    {
        if (actual != expected) throw new ArgumentException($"RoI op: {what} has {actual} elements, expected {expected}.");
    }
}
