using Backprop.Optim;
using static Backprop.Tests.Optim.OptimTestHelpers;

namespace Backprop.Tests.Optim;

public class NAdamTests
{
    // From tests/Backprop.Tests/Optim/Fixtures/make_nadam_fixtures.py (torch.optim.NAdam, torch 1.13).
    private static readonly double[] TorchDefaultsWithDecay = [0.8258594274520874, -1.975281000137329, 0.3396221101284027];
    private static readonly double[] TorchKerasSettings = [0.839516818523407, -1.9888607263565063, 0.3382852077484131];

    [Fact]
    public void MatchesPyTorchWithItsDefaults()
    {
        var p = Param(W0);
        Run(new NAdam([p], 0.1f, weightDecay: 0.05f));
        AssertClose(TorchDefaultsWithDecay, p);
    }

    [Fact]
    public void MatchesPyTorchWithKerasMomentumDecay()
    {
        var p = Param(W0);
        Run(new NAdam([p], 0.1f, epsilon: 1e-7f, momentumDecay: 1f));
        AssertClose(TorchKerasSettings, p);
    }

    [Fact]
    public void RestoredStepGivesTheSameUpdateAsAnUninterruptedRun()
    {
        var straight = Param(W0);
        Run(new NAdam([straight], 0.1f));

        var first = Param(W0);
        var before = new NAdam([first], 0.1f);
        Run(before, steps: 2);
        var resumed = new NAdam([first], 0.1f);   // a fresh optimizer given the snapshot of the first
        var state = resumed.State(first);
        state.Step = 2;
        for (int b = 0; b < 2; b++) before.State(first).Buffers[b].CopyTo(state.Buffers[b], 0);
        SetGrad(first, Grads[2]);
        resumed.Step();
        AssertClose(straight.ToArray().Select(v => (double)v).ToArray(), first);
    }
}
