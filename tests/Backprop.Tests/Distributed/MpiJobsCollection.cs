namespace Backprop.Tests.Distributed;

/// <summary>MPI jobs run one at a time: each already uses every core of the machine.</summary>
[CollectionDefinition("MPI jobs", DisableParallelization = true)]
public class MpiJobsCollection;
