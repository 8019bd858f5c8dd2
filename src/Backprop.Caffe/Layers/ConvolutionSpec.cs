using Backprop.Caffe.Proto;

namespace Backprop.Caffe.Layers;

/// <summary>
/// Kernel, stride, pad and dilation of a <c>convolution_param</c> for any number of spatial axes, read as Caffe reads them
/// (Convolution, Deconvolution, Im2col): each field has one value for every axis or one per axis; with two spatial axes the
/// <c>_h</c>/<c>_w</c> fields may be used instead. Defaults: stride 1, pad 0, dilation 1; the kernel size is required.
/// </summary>
internal sealed record ConvolutionSpec(int[] Kernel, int[] Stride, int[] Pad, int[] Dilation)
{
    /// <summary>Reads the fields for <paramref name="spatialAxes"/> axes; <paramref name="error"/> makes an exception that names the layer.</summary>
    public static ConvolutionSpec Read(ConvolutionParameter p, int spatialAxes, Func<string, Exception> error)
    {
        bool twoD = spatialAxes == 2;
        int[] kernel = Field("kernel_size", p.KernelSize, p.HasKernelH || p.HasKernelW, p.KernelH, p.KernelW, p.HasKernelH && p.HasKernelW, null);
        int[] stride = Field("stride", p.Stride, p.HasStrideH || p.HasStrideW, p.StrideH, p.StrideW, p.HasStrideH && p.HasStrideW, 1);
        int[] pad = Field("pad", p.Pad, p.HasPadH || p.HasPadW, p.PadH, p.PadW, true, 0);   // Caffe lets pad_h and pad_w default to 0 each
        int[] dilation = Field("dilation", p.Dilation, false, 0, 0, false, 1);
        for (int i = 0; i < spatialAxes; i++)
        {
            if (kernel[i] < 1) throw error($"kernel_size {Join(kernel)} must be positive.");
            if (stride[i] < 1) throw error($"stride {Join(stride)} must be positive.");
            if (dilation[i] < 1) throw error($"dilation {Join(dilation)} must be positive.");
            if (pad[i] < 0) throw error($"pad {Join(pad)} is out of range.");
        }
        return new ConvolutionSpec(kernel, stride, pad, dilation);

        int[] Field(string name, IList<uint> values, bool hasHw, uint h, uint w, bool bothHw, int? fallback)
        {
            string stem = name.Replace("_size", "");
            if (hasHw)
            {
                if (!twoD) throw error($"{stem}_h/_w are for 2-D convolution; this one has {spatialAxes} spatial axes, use {name}.");
                if (values.Count > 0) throw error($"{name} and {stem}_h/_w are both given; use one.");
                if (!bothHw) throw error($"{stem}_h and {stem}_w must be given together.");
                return [Checked(h), Checked(w)];
            }
            if (values.Count == 0)
                return fallback is int f ? Enumerable.Repeat(f, spatialAxes).ToArray() : throw error($"{name} is required.");
            if (values.Count == 1) return Enumerable.Repeat(Checked(values[0]), spatialAxes).ToArray();
            if (values.Count == spatialAxes) return values.Select(Checked).ToArray();
            throw error($"{name} has {values.Count} values; a convolution over {spatialAxes} spatial axes takes 1 or {spatialAxes}.");
        }

        int Checked(uint v) => v <= int.MaxValue ? (int)v : throw error($"value {v} is out of range.");
    }

    private static string Join(int[] v) => string.Join("x", v);

    /// <summary>The values as "3x3", for messages.</summary>
    public override string ToString() => $"kernel {Join(Kernel)}, stride {Join(Stride)}, pad {Join(Pad)}, dilation {Join(Dilation)}";
}
