using Backprop.Caffe.Proto;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Caffe;

/// <summary>Turns a SolverParameter into Backprop's optimizer and learning-rate schedule, with Caffe's update rules.</summary>
public static class SolverSetup
{
    /// <summary>The solver type: <c>type</c> when given, else the deprecated <c>solver_type</c> enum.</summary>
    public static string SolverType(SolverParameter p) => p.HasType ? p.Type : p.SolverType switch
    {
        SolverParameter.Types.SolverType.Nesterov => "Nesterov",
        SolverParameter.Types.SolverType.Adagrad => "AdaGrad",
        SolverParameter.Types.SolverType.Rmsprop => "RMSProp",
        SolverParameter.Types.SolverType.Adadelta => "AdaDelta",
        SolverParameter.Types.SolverType.Adam => "Adam",
        _ => "SGD",
    };

    /// <summary>Caffe's solver types as Backprop optimizers (Caffe-style momentum, eps placement and names).</summary>
    public static Optimizer CreateOptimizer(SolverParameter p, IEnumerable<Parameter> parameters)
    {
        var regularization = p.RegularizationType switch
        {
            "L2" => Regularization.L2,
            "L1" => Regularization.L1,
            _ => throw new CaffeNetException($"Solver: unknown regularization_type '{p.RegularizationType}' (use L1 or L2)."),
        };
        float lr = p.BaseLr, wd = p.WeightDecay;
        return SolverType(p) switch
        {
            "SGD" => new Sgd(parameters, lr, p.Momentum, wd, style: SgdMomentumStyle.Caffe, regularization: regularization),
            "Nesterov" => new Sgd(parameters, lr, p.Momentum, wd, nesterov: true, style: SgdMomentumStyle.Caffe, regularization: regularization),
            "AdaGrad" => new AdaGrad(parameters, lr, p.Delta, wd, regularization: regularization),
            "RMSProp" => new RmsProp(parameters, lr, p.RmsDecay, p.Delta, wd, regularization: regularization),
            "AdaDelta" => new AdaDelta(parameters, lr, p.Momentum, p.Delta, wd, regularization: regularization),
            "Adam" => new Adam(parameters, lr, p.Momentum, p.Momentum2, p.Delta, wd, AdamStyle.Caffe, regularization),
            var other => throw new CaffeNetException($"Solver: unknown solver type '{other}' (known: SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam)."),
        };
    }

    /// <summary>Caffe's lr_policy as a schedule.</summary>
    public static LearningRateSchedule CreateSchedule(SolverParameter p)
    {
        string policy = p.HasLrPolicy ? p.LrPolicy : "fixed";
        try
        {
            return policy switch
            {
                "fixed" => new FixedSchedule(p.BaseLr),
                "step" => new StepSchedule(p.BaseLr, p.Gamma, p.Stepsize),
                "exp" => new ExponentialSchedule(p.BaseLr, p.Gamma),
                "inv" => new InverseSchedule(p.BaseLr, p.Gamma, p.Power),
                "multistep" => new MultiStepSchedule(p.BaseLr, p.Gamma, p.Stepvalue),
                "poly" => new PolynomialSchedule(p.BaseLr, p.MaxIter, p.Power),
                "sigmoid" => new SigmoidSchedule(p.BaseLr, p.Gamma, p.Stepsize),
                _ => throw new CaffeNetException($"Solver: unknown lr_policy '{policy}' (known: fixed, step, exp, inv, multistep, poly, sigmoid)."),
            };
        }
        catch (ArgumentException e)
        {
            throw new CaffeNetException($"Solver: lr_policy '{policy}': {e.Message}", e);
        }
    }
}
