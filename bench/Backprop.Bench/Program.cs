using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Backprop.Bench -- --filter '*Gemm*'   (or '*' for all; --job short for a quick pass)
// dotnet run -c Release --project bench/Backprop.Bench -- quick [repeats] [inference]   (Stopwatch medians for bench/kernels/run.sh)
if (args.Length > 0 && args[0] == "quick")
{
    Backprop.Bench.QuickTimings.Run(args.Length > 1 ? int.Parse(args[1]) : 11, args.Length > 2 && args[2] == "inference");
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll gemm-peer LIBOPENBLAS [rounds]   (SGEMM vs OpenBLAS's cblas_sgemm in this process, alternating rounds)
if (args.Length > 1 && args[0] == "gemm-peer")
{
    Backprop.Bench.GemmPeerTimings.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 15);
    return;
}
// dotnet run -c Release --project bench/Backprop.Bench -- batchnorm [repeats]   (reference vs fast batch-norm kernels, alternating)
if (args.Length > 0 && args[0] == "batchnorm")
{
    Backprop.Bench.BatchNormTimings.Run(args.Length > 1 ? int.Parse(args[1]) : 21);
    Backprop.Bench.BatchNormPassTimings.Run(args.Length > 1 ? int.Parse(args[1]) : 21);
    return;
}
// dotnet run -c Release --project bench/Backprop.Bench -- pooling [repeats]   (reference vs fast pooling kernels, cifar10_quick and global shapes)
if (args.Length > 0 && args[0] == "pooling")
{
    Backprop.Bench.PoolingTimings.Run(args.Length > 1 ? int.Parse(args[1]) : 11);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll ab CASE ROUNDS FOLDER_A FOLDER_B   (see bench/ab/run.sh)
if (args.Length > 0 && args[0] == "ab")
{
    if (args.Length < 5) { Console.Error.WriteLine($"usage: ab CASE ROUNDS FOLDER_A FOLDER_B [...]; cases: {Backprop.Bench.AbCases.Help}"); Environment.Exit(2); }
    Backprop.Bench.AbTimings.Run(args[1], int.Parse(args[2]), args[3..]);
    return;
}
// dotnet run -c Release --project bench/Backprop.Bench -- detection-step [repeats] [batch] | detection-vgg [repeats]   (see bench/detection)
if (args.Length > 0 && args[0] == "detection-step")
{
    Backprop.Bench.DetectionTimings.Step(args.Length > 1 ? int.Parse(args[1]) : 10, args.Length > 2 ? int.Parse(args[2]) : 4);
    return;
}
if (args.Length > 0 && args[0] == "detection-vgg")
{
    Backprop.Bench.DetectionTimings.Vgg(args.Length > 1 ? int.Parse(args[1]) : 5);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll caffe-train SOLVER ITERATIONS   (see bench/cifar)
if (args.Length > 0 && args[0] == "caffe-train")
{
    if (args.Length < 3) { Console.Error.WriteLine("usage: caffe-train SOLVER ITERATIONS"); Environment.Exit(2); }
    Backprop.Bench.CaffeTrainTimings.Run(args[1], int.Parse(args[2]));
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll convnet resnet20|vgg [iterations] [inference repeats] [warm-up steps]   (see bench/resnet)
if (args.Length > 1 && args[0] == "convnet")
{
    Backprop.Bench.ConvNetTimings.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 20, args.Length > 3 ? int.Parse(args[3]) : 20,
        args.Length > 4 ? int.Parse(args[4]) : 2);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll train-profile resnet20|vgg [steps]   (a training step's time by part)
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll width-profile [rounds] [filter]   (ResNet-20's kernels one by one; run with and without DOTNET_EnableAVX512=0)
if (args.Length > 0 && args[0] == "width-profile")
{
    Backprop.Bench.WidthProfile.Run(args.Length > 1 ? int.Parse(args[1]) : 9, args.Length > 2 ? args[2] : "");
    return;
}
if (args.Length > 1 && args[0] == "train-profile")
{
    Backprop.Bench.TrainingProfile.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 10);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll convnet-fold resnet20|vgg [rounds]   (BatchNorm folded vs not, interleaved)
if (args.Length > 1 && args[0] == "convnet-fold")
{
    Backprop.Bench.FoldTimings.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 30);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll fashion-resnet [epochs] [seed]   (see bench/resnet/accuracy.sh)
if (args.Length > 0 && args[0] == "fashion-resnet")
{
    Backprop.Bench.FashionAccuracy.Run(args.Length > 1 ? int.Parse(args[1]) : 2, args.Length > 2 ? int.Parse(args[2]) : 1);
    return;
}
// mpirun -np N dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll allreduce [repeats] [max floats]   (see bench/distributed)
if (args.Length > 0 && args[0] == "allreduce")
{
    Backprop.Bench.AllreduceTimings.Run(args.Length > 1 ? int.Parse(args[1]) : 20, args.Length > 2 ? long.Parse(args[2]) : long.MaxValue);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll cifar-lockstep SOLVER DIR [steps]   (see bench/cifar/lockstep.sh)
if (args.Length > 2 && args[0] == "cifar-lockstep")
{
    Backprop.Bench.CifarLockstep.Run(args[1], args[2], args.Length > 3 ? int.Parse(args[3]) : 100);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll fashion-lockstep DIR [steps]   (see bench/resnet/lockstep.sh)
if (args.Length > 1 && args[0] == "fashion-lockstep")
{
    Backprop.Bench.FashionLockstep.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 100);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll onnx-inference [rounds] [lenet,resnet20]   (see bench/onnx/run.sh)
if (args.Length > 0 && args[0] == "onnx-inference")
{
    Backprop.Bench.OnnxInferenceTimings.Run(args.Length > 1 ? int.Parse(args[1]) : 30, args.Length > 2 ? args[2].Split(',') : ["lenet", "resnet20"]);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll ort-profile [calls]   (ONNX Runtime's ResNet-20 batch-1 nodes on 1 vs 2 threads)
if (args.Length > 0 && args[0] == "ort-profile")
{
    Backprop.Bench.OrtNodeProfile.Run(args.Length > 1 ? int.Parse(args[1]) : 2000);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll core-probe [rounds]   (the kernel threads' handoff, and a row vs a channel split of a 16x32x32 chain)
if (args.Length > 0 && args[0] == "core-probe")
{
    Backprop.Bench.CoreProbe.Run(args.Length > 1 ? int.Parse(args[1]) : 5);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll stage-profile [rounds]   (ResNet-20 folded, batch 1: stages inside whole forwards, 1 vs 2 threads)
if (args.Length > 0 && args[0] == "stage-profile")
{
    Backprop.Bench.StageProfile.Run(args.Length > 1 ? int.Parse(args[1]) : 50);
    return;
}
// dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll latency-profile [rounds] [lenet,resnet20] [batch]   (layers at batch 1, or the given batch, on 1 vs 2 kernel threads)
if (args.Length > 0 && args[0] == "latency-profile")
{
    Backprop.Bench.LatencyProfile.Run(args.Length > 1 ? int.Parse(args[1]) : 20, args.Length > 2 ? args[2] : "lenet,resnet20", args.Length > 3 ? int.Parse(args[3]) : 1);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Backprop.Bench.GemmBenchmarks).Assembly).Run(args);
