namespace FiltersAndSeeds;

/// <summary>
/// The Hungarian algorithm (Kuhn–Munkres with potentials, O(n³)): the one-to-one assignment of rows to columns of
/// a square cost matrix with the least total cost. To maximise a similarity, minimise its negative.
/// </summary>
public static class Hungarian
{
    /// <summary>For each row i, the column assigned to it; the sum of cost[i, result[i]] is the least possible.</summary>
    public static int[] Minimize(double[,] cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        int n = cost.GetLength(0);
        if (cost.GetLength(1) != n) throw new ArgumentException($"The cost matrix must be square, got {n}x{cost.GetLength(1)}.");
        // 1-based arrays; index 0 is a virtual column that holds the row being inserted.
        var u = new double[n + 1];      // row potentials
        var v = new double[n + 1];      // column potentials
        var rowOf = new int[n + 1];     // rowOf[j]: row matched to column j (0: none)
        var way = new int[n + 1];       // previous column on the alternating path
        for (int i = 1; i <= n; i++)
        {
            rowOf[0] = i;
            int j0 = 0;
            var minSlack = new double[n + 1];
            var used = new bool[n + 1];
            Array.Fill(minSlack, double.PositiveInfinity);
            do
            {
                used[j0] = true;
                int i0 = rowOf[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= n; j++)
                {
                    if (used[j]) continue;
                    double slack = cost[i0 - 1, j - 1] - u[i0] - v[j];
                    if (slack < minSlack[j]) { minSlack[j] = slack; way[j] = j0; }
                    if (minSlack[j] < delta) { delta = minSlack[j]; j1 = j; }
                }
                for (int j = 0; j <= n; j++)
                {
                    if (used[j]) { u[rowOf[j]] += delta; v[j] -= delta; }
                    else minSlack[j] -= delta;
                }
                j0 = j1;
            } while (rowOf[j0] != 0);
            do   // flip the alternating path back to the virtual column
            {
                int j1 = way[j0];
                rowOf[j0] = rowOf[j1];
                j0 = j1;
            } while (j0 != 0);
        }
        var assignment = new int[n];
        for (int j = 1; j <= n; j++) assignment[rowOf[j] - 1] = j - 1;
        return assignment;
    }

    /// <summary>The assignment with the greatest total of <paramref name="score"/>.</summary>
    public static int[] Maximize(double[,] score)
    {
        ArgumentNullException.ThrowIfNull(score);
        var cost = new double[score.GetLength(0), score.GetLength(1)];
        for (int i = 0; i < cost.GetLength(0); i++)
            for (int j = 0; j < cost.GetLength(1); j++) cost[i, j] = -score[i, j];
        return Minimize(cost);
    }
}
