"""Generates RecurrentFixtures.cs: PyTorch 1.13 reference numbers for Caffe's LSTM, RNN and Embed layers (run once;
tests never run Python).

    /usr/bin/python3 tests/Backprop.Tests/Caffe/Layers/Fixtures/make_recurrent_fixtures.py > tests/Backprop.Tests/Caffe/Layers/Fixtures/RecurrentFixtures.cs

Weights are drawn in Caffe's layout and mapped onto torch's modules:
- LSTM: Caffe's W_xc (4H, D), b_c (4H), W_hc (4H, H) hold the gates in the order i, f, o, g; torch.nn.LSTM's
  weight_ih/weight_hh/bias_ih hold i, f, g, o, so Caffe's blocks [0, 1, 3, 2] are taken; bias_hh = 0 (Caffe has one bias).
- RNN: torch.nn.RNN(tanh) with weight_ih = W_xh, bias_ih = b_h, weight_hh = W_hh, bias_hh = 0; Caffe's output
  o = tanh(W_ho h + b_o) is computed after it.
- Embed: torch.nn.Embedding with weight = W (input_dim, num_output), plus the bias b.
Caffe's cont flags (0 starts a new sequence) are emulated by running torch on each sequence segment from a zero state
(or from the given h0/c0 for the first segment). Gradients are those of sum(top * R) for a random R, mapped back to
Caffe's layout. Computed in float64, printed as float32.
"""
import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(15)


def arr(shape, scale=0.5):
    # Rounded to float32 first, so the printed inputs are exactly the ones computed with.
    return rng.normal(0, scale, size=shape).astype(np.float32).astype(np.float64)


def floats(name, values):
    values = np.asarray(values, dtype=np.float64).ravel()
    return f"    public static readonly float[] {name} = [{', '.join(str(np.float32(v)) + 'f' for v in values)}];"


def segments(cont_column):
    """Start indices of the sequences in one stream: 0 and every t where cont is 0."""
    starts = [0] + [t for t in range(1, len(cont_column)) if cont_column[t] == 0]
    return list(zip(starts, starts[1:] + [len(cont_column)]))


def lstm_case(prefix, T, N, D, H, cont, with_initial):
    gate_order = [0, 1, 3, 2]  # torch block k = Caffe block gate_order[k]

    def to_torch(w):
        return np.concatenate([w[b * H:(b + 1) * H] for b in gate_order])

    Wxc, bc, Whc = arr((4 * H, D)), arr(4 * H), arr((4 * H, H))
    x = arr((T, N, D), 1.0)
    h0 = arr((1, N, H)) if with_initial else np.zeros((1, N, H))
    c0 = arr((1, N, H)) if with_initial else np.zeros((1, N, H))
    R = arr((T, N, H), 1.0)
    lstm = torch.nn.LSTM(D, H)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor(to_torch(Wxc)))
        lstm.weight_hh_l0.copy_(torch.tensor(to_torch(Whc)))
        lstm.bias_ih_l0.copy_(torch.tensor(to_torch(bc)))
        lstm.bias_hh_l0.zero_()
    xt = torch.tensor(x, requires_grad=True)
    out = torch.zeros(T, N, H)
    hT, cT = torch.zeros(N, H), torch.zeros(N, H)
    for n in range(N):
        for start, end in segments(cont[:, n]):
            first = start == 0
            h_init = torch.tensor(h0[:, n:n + 1]) if first else torch.zeros(1, 1, H)
            c_init = torch.tensor(c0[:, n:n + 1]) if first else torch.zeros(1, 1, H)
            y, (h, c) = lstm(xt[start:end, n:n + 1], (h_init, c_init))
            out[start:end, n] = y[:, 0]
            if end == T:
                hT[n], cT[n] = h[0, 0], c[0, 0]
    (out * torch.tensor(R)).sum().backward()
    back = np.argsort(gate_order)  # Caffe block b = torch block back[b]

    def to_caffe(g):
        g = g.numpy()
        return np.concatenate([g[k * H:(k + 1) * H] for k in back])

    print(f"    // {prefix}: T={T} N={N} D={D} H={H}, initial state {'given' if with_initial else 'zero'}")
    print(f"    public static readonly int[] {prefix}Dims = [{T}, {N}, {D}, {H}];")
    for name, v in [("Cont", cont), ("X", x), ("H0", h0), ("C0", c0), ("Wxc", Wxc), ("Bc", bc), ("Whc", Whc), ("R", R),
                    ("H", out.detach()), ("HT", hT.detach()), ("CT", cT.detach()), ("DX", xt.grad),
                    ("DWxc", to_caffe(lstm.weight_ih_l0.grad)), ("DBc", to_caffe(lstm.bias_ih_l0.grad)),
                    ("DWhc", to_caffe(lstm.weight_hh_l0.grad))]:
        print(floats(prefix + name, v))


def rnn_case(prefix, T, N, D, H, cont):
    Wxh, bh, Whh, Who, bo = arr((H, D)), arr(H), arr((H, H)), arr((H, H)), arr(H)
    x = arr((T, N, D), 1.0)
    R = arr((T, N, H), 1.0)
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh")
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(Wxh))
        rnn.weight_hh_l0.copy_(torch.tensor(Whh))
        rnn.bias_ih_l0.copy_(torch.tensor(bh))
        rnn.bias_hh_l0.zero_()
    who, bot = torch.tensor(Who, requires_grad=True), torch.tensor(bo, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    hidden = torch.zeros(T, N, H)
    for n in range(N):
        for start, end in segments(cont[:, n]):
            y, _ = rnn(xt[start:end, n:n + 1], torch.zeros(1, 1, H))
            hidden[start:end, n] = y[:, 0]
    o = torch.tanh(hidden @ who.T + bot)
    (o * torch.tensor(R)).sum().backward()
    print(f"    // {prefix}: T={T} N={N} D={D} H={H}")
    print(f"    public static readonly int[] {prefix}Dims = [{T}, {N}, {D}, {H}];")
    for name, v in [("Cont", cont), ("X", x), ("Wxh", Wxh), ("Bh", bh), ("Whh", Whh), ("Who", Who), ("Bo", bo), ("R", R),
                    ("O", o.detach()), ("HT", hidden[-1].detach()), ("DX", xt.grad), ("DWxh", rnn.weight_ih_l0.grad),
                    ("DBh", rnn.bias_ih_l0.grad), ("DWhh", rnn.weight_hh_l0.grad), ("DWho", who.grad), ("DBo", bot.grad)]:
        print(floats(prefix + name, v))


def embed_case(prefix, K, N, index_shape):
    W, b = arr((K, N)), arr(N)
    idx = rng.integers(0, K, size=index_shape)
    idx.ravel()[:2] = idx.ravel()[2]  # repeated indices: their gradients add up
    R = arr(index_shape + (N,), 1.0)
    emb = torch.nn.Embedding(K, N)
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(W))
    bt = torch.tensor(b, requires_grad=True)
    y = emb(torch.tensor(idx)) + bt
    (y * torch.tensor(R)).sum().backward()
    print(f"    // {prefix}: input_dim={K} num_output={N}, indices {index_shape}")
    print(f"    public static readonly int[] {prefix}Dims = [{K}, {N}, {', '.join(map(str, index_shape))}];")
    for name, v in [("Indices", idx), ("W", W), ("B", b), ("R", R), ("Top", y.detach()), ("DW", emb.weight.grad), ("DB", bt.grad)]:
        print(floats(prefix + name, v))


print(f"// Generated by make_recurrent_fixtures.py with torch {torch.__version__}: do not edit.")
print("namespace Backprop.Tests.Caffe.Layers;")
print()
print("internal static class RecurrentFixtures")
print("{")
# Stream 0 runs one sequence; stream 1 starts a new one at t = 2.
lstm_case("Lstm", 4, 2, 3, 2, np.array([[0, 0], [1, 1], [1, 0], [1, 1]]), with_initial=False)
# Exposed initial state: cont starts at 1 so h0 and c0 count; stream 0 restarts at t = 1.
lstm_case("LstmInit", 3, 2, 2, 3, np.array([[1, 1], [0, 1], [1, 1]]), with_initial=True)
rnn_case("Rnn", 4, 2, 3, 3, np.array([[0, 0], [1, 0], [1, 1], [0, 1]]))
embed_case("Embed", 5, 3, (2, 3))
print("}")
