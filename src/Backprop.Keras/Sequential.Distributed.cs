using Backprop.Distributed;
using Backprop.Distributed.Mpi;

namespace Backprop.Keras;

public sealed partial class Sequential
{
    /// <summary>
    /// Whether Fit trains data-parallel (Horovod's way, with no code change): by default, when the program was started
    /// by mpirun/mpiexec with two or more processes. Each rank then trains on its own shard of every epoch (the same
    /// seeded permutation on all ranks), gradients are averaged across the ranks after each batch, rank 0's weights are
    /// copied to all at the start, and the epoch's loss and metrics are averaged over all ranks. Rank 0 alone reports
    /// progress and runs the callbacks that write files (<see cref="Callback.RootRankOnly"/>); a rank that throws ends
    /// the whole job with an error naming the rank, epoch and batch.
    /// </summary>
    public DataParallelMode DataParallel { get; set; } = DataParallelMode.Auto;

    private bool TrainsDataParallel => DataParallel switch
    {
        DataParallelMode.Always => true,
        DataParallelMode.Never => false,
        _ => MpiLauncher.IsParallelJob,
    };

    /// <summary>One data-parallel Fit: the job, the gradient averaging and the shard order.</summary>
    private sealed class ParallelFit : IDisposable
    {
        private readonly DistributedDataParallel ddp;
        private readonly DistributedSampler sampler;

        public ParallelFit(Sequential model, int samples, bool shuffle)
        {
            World = Communicator.Initialize();
            ddp = new DistributedDataParallel(model.network, World);
            // Every rank draws (keeping the generators in step); rank 0's seed orders all ranks' epochs.
            var seed = BitConverter.GetBytes(model.Generator.NextUInt64());
            World.Broadcast(seed);
            sampler = new DistributedSampler(samples, World, shuffle, BitConverter.ToUInt64(seed));
        }

        public Communicator World { get; }

        /// <summary>Samples each rank trains on per epoch (the same on every rank).</summary>
        public int SamplesPerRank => sampler.Count;

        public int[] Order(int epoch)
        {
            sampler.SetEpoch(epoch);
            return sampler.Indices();
        }

        /// <summary>Before a batch: rank 0's running statistics to every rank (PyTorch's broadcast_buffers).</summary>
        public void BeforeBatch() => ddp.CopyBuffersFromRoot();

        /// <summary>After backward: every gradient holds the average over the ranks.</summary>
        public void AfterBackward() => ddp.FinishGradientSync();

        /// <summary>True on every rank when any rank asks to stop, so all leave the loop at the same batch.</summary>
        public bool AnyRank(bool flag)
        {
            Span<int> value = [flag ? 1 : 0];
            World.AllreduceMax(value);
            return value[0] != 0;
        }

        public void Dispose() => ddp.Dispose();
    }
}
