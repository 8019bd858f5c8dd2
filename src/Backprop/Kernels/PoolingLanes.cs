using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels;

/// <summary>
/// The few vector operations <see cref="PoolingWindows"/> needs, at one SIMD width: TF holds V floats (one per
/// output column of a block), TI the matching ints, and a float mask is all ones in a lane or all zeros.
/// </summary>
internal unsafe interface IPoolLanes<TF, TI> where TF : unmanaged where TI : unmanaged
{
    /// <summary>V, the lanes per vector.</summary>
    static abstract int Count { get; }
    static abstract TF Load(float* p);
    /// <summary>p[0], p[2], ..., p[2V-2]; reads p[0, 2V).</summary>
    static abstract TF LoadEven(float* p);
    static abstract TI LoadInt(int* p);
    static abstract void Store(TF v, float* p);
    static abstract void Store(TI v, int* p);
    static abstract TF Splat(float v);
    static abstract TI Splat(int v);
    static abstract TI Add(TI a, TI b);
    static abstract TF Multiply(TF a, TF b);
    static abstract TF Divide(TF a, TF b);
    /// <summary>max(x, 0) as Activations.ReluForward: 0 where x &lt;= 0, else x (NaN stays).</summary>
    static abstract TF Relu(TF x);

    /// <summary>sum += x where valid (adding +0 elsewhere leaves a sum that started at +0 unchanged, bit for bit).</summary>
    static abstract TF AddWhere(TF sum, TF x, TF valid);

    /// <summary>
    /// The next candidate x (input index xi) replaces the best so far where valid and either greater or the first
    /// NaN: x is taken iff best is not NaN and !(x &lt;= best).
    /// </summary>
    static abstract void Take(TF x, TI xi, TF valid, ref TF best, ref TI index);
}

internal readonly unsafe struct Lanes512 : IPoolLanes<Vector512<float>, Vector512<int>>
{
    public static int Count => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadEven(float* p) => Avx512F.IsSupported
        // One two-source permute (Narrow's two truncations and an insert are three shuffles and more).
        ? Avx512F.PermuteVar16x32x2(Vector512.Load(p), Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), Vector512.Load(p + 16))
        : Vector512.Narrow(Vector512.Load((ulong*)p), Vector512.Load((ulong*)p + 8)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> LoadInt(int* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> v, float* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<int> v, int* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float v) => Vector512.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> Splat(int v) => Vector512.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> Add(Vector512<int> a, Vector512<int> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.LessThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.Zero, x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> AddWhere(Vector512<float> sum, Vector512<float> x, Vector512<float> valid) => sum + (x & valid);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Take(Vector512<float> x, Vector512<int> xi, Vector512<float> valid, ref Vector512<float> best, ref Vector512<int> index)
    {
        var take = Vector512.AndNot(valid & Vector512.Equals(best, best), Vector512.LessThanOrEqual(x, best));
        best = Vector512.ConditionalSelect(take, x, best);
        index = Vector512.ConditionalSelect(take.AsInt32(), xi, index);
    }
}

internal readonly unsafe struct Lanes256 : IPoolLanes<Vector256<float>, Vector256<int>>
{
    public static int Count => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadEven(float* p) => Avx2.IsSupported
        // Within lanes (a0 a2 b0 b2 | a4 a6 b4 b6), then the 64-bit pairs into order.
        ? Avx2.Permute4x64(Avx.Shuffle(Vector256.Load(p), Vector256.Load(p + 8), 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle()
        : Vector256.Narrow(Vector256.Load((ulong*)p), Vector256.Load((ulong*)p + 4)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> LoadInt(int* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> v, float* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<int> v, int* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float v) => Vector256.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> Splat(int v) => Vector256.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> Add(Vector256<int> a, Vector256<int> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.LessThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.Zero, x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> AddWhere(Vector256<float> sum, Vector256<float> x, Vector256<float> valid) => sum + (x & valid);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Take(Vector256<float> x, Vector256<int> xi, Vector256<float> valid, ref Vector256<float> best, ref Vector256<int> index)
    {
        var take = Vector256.AndNot(valid & Vector256.Equals(best, best), Vector256.LessThanOrEqual(x, best));
        best = Vector256.ConditionalSelect(take, x, best);
        index = Vector256.ConditionalSelect(take.AsInt32(), xi, index);
    }
}

internal readonly unsafe struct Lanes128 : IPoolLanes<Vector128<float>, Vector128<int>>
{
    public static int Count => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadEven(float* p) => Sse.IsSupported
        ? Sse.Shuffle(Vector128.Load(p), Vector128.Load(p + 4), 0b10_00_10_00)
        : Vector128.Narrow(Vector128.Load((ulong*)p), Vector128.Load((ulong*)p + 2)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> LoadInt(int* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> v, float* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<int> v, int* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Splat(float v) => Vector128.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Splat(int v) => Vector128.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Add(Vector128<int> a, Vector128<int> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Relu(Vector128<float> x) => Vector128.ConditionalSelect(Vector128.LessThanOrEqual(x, Vector128<float>.Zero), Vector128<float>.Zero, x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> AddWhere(Vector128<float> sum, Vector128<float> x, Vector128<float> valid) => sum + (x & valid);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Take(Vector128<float> x, Vector128<int> xi, Vector128<float> valid, ref Vector128<float> best, ref Vector128<int> index)
    {
        var take = Vector128.AndNot(valid & Vector128.Equals(best, best), Vector128.LessThanOrEqual(x, best));
        best = Vector128.ConditionalSelect(take, x, best);
        index = Vector128.ConditionalSelect(take.AsInt32(), xi, index);
    }
}
