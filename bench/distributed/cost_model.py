#!/usr/bin/env python3
"""Ring all-reduce cost model for data-parallel training (issue 16), printed as the Markdown tables of
docs/distributed-scaling.md. Standard library only.

  python3 bench/distributed/cost_model.py [--alpha-us 20] [--lenet-ms 8.75] [--speedup 1] [--batch-scale 1] [--summary]

--batch-scale K: K times the images per rank and iteration (a larger batch_size, or iter_size K: K forward-backward
passes, one all-reduce); --summary prints only the "where it stops" table.

Per iteration and rank:
  communication  t_comm  = 2(N-1)/N * S/B + 2(N-1) * alpha        (ring all-reduce of S bytes over links of B)
  compute        t_comp  = batch per rank * seconds per image      (one rank = a 2-core node like the bench machine)
  efficiency without overlap  t_comp / (t_comp + t_comm)
  efficiency with overlap     t_comp / (t_comp + max(t_comm - 2/3 t_comp, t_last))
where backward is taken as 2/3 of the step (it does twice forward's work) and the gradients of the last bucket
(25 MB, or the whole gradient when smaller) can only be sent once backward is done: t_last is its ring time.
"""
import argparse

GBIT = 1e9 / 8  # bytes per second in 1 Gb/s
BUCKET_BYTES = 25 * 1024 * 1024
RANKS = [2, 4, 8, 16, 32, 64, 128, 256]
LINKS_GBIT = [10, 25, 100]

# Measured on the bench machine (docs/performance.md, 2 threads, Intel Xeon with AVX-512): ResNet-20 at batch 128
# trains in 414.6 ms a step, the VGG-style stack (64x64, batch 32) in 411.0 ms. Their forward multiply-adds per image
# (counted below) turn these into a training rate; the big nets' per-image time is their forward multiply-adds
# over the same rate (training = 3x forward: forward, backward-data, backward-weights).
def resnet20_macs():
    macs = 32 * 32 * 16 * 3 * 9                      # stem 3->16
    macs += 6 * 32 * 32 * 16 * 16 * 9                # stage 1: six 3x3 convs 16->16 at 32x32
    for (cin, c, hw) in [(16, 32, 16), (32, 64, 8)]:  # stages 2, 3: stride-2 conv, five convs, 1x1 shortcut
        macs += hw * hw * c * cin * 9 + 5 * hw * hw * c * c * 9 + hw * hw * c * cin
    return macs + 64 * 10

def vgg_stack_macs():
    macs, cin, hw = 0, 3, 64
    for c in [32, 64, 128, 256]:
        macs += hw * hw * c * cin * 9 + hw * hw * c * c * 9
        cin, hw = c, hw // 2
    return macs + 256 * 10

def rate_flops(step_ms, batch, forward_macs):
    """Training FLOP/s: 3 passes of forward's multiply-adds, 2 FLOPs each."""
    return 6 * forward_macs * batch / (step_ms / 1000)

def nets(lenet_ms, speedup, scale):
    resnet_rate = rate_flops(414.6, 128, resnet20_macs())
    vgg_rate = rate_flops(411.0, 32, vgg_stack_macs())
    # (name, gradient bytes, batch per rank, seconds of compute per iteration per rank)
    return [
        ("LeNet", 431_080 * 4, 64 * scale, scale * lenet_ms / 1000 / speedup),
        ("ResNet-50", 25_557_032 * 4, 32 * scale, scale * 32 * 6 * 4.09e9 / resnet_rate / speedup),
        ("VGG-16", 138_357_544 * 4, 32 * scale, scale * 32 * 6 * 15.47e9 / vgg_rate / speedup),
    ], resnet_rate, vgg_rate

def ring_seconds(size_bytes, ranks, link_bytes_per_s, alpha):
    return 2 * (ranks - 1) / ranks * size_bytes / link_bytes_per_s + 2 * (ranks - 1) * alpha

def efficiencies(size, comp, ranks, link, alpha):
    comm = ring_seconds(size, ranks, link, alpha)
    last = ring_seconds(min(size, BUCKET_BYTES), ranks, link, alpha)
    exposed = max(comm - 2 / 3 * comp, last)
    return comm, comp / (comp + comm), comp / (comp + exposed)

def fmt_ms(seconds):
    ms = seconds * 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:.0f}"

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alpha-us", type=float, default=20.0, help="per-message latency, microseconds")
    parser.add_argument("--lenet-ms", type=float, default=8.75, help="LeNet step, batch 64, one rank, ms")
    parser.add_argument("--speedup", type=float, default=1.0, help="ranks this many times faster than the bench machine")
    parser.add_argument("--batch-scale", type=int, default=1, help="times the images per rank and iteration")
    parser.add_argument("--summary", action="store_true", help="only the where-it-stops table")
    args = parser.parse_args()
    alpha = args.alpha_us * 1e-6
    table, resnet_rate, vgg_rate = nets(args.lenet_ms, args.speedup, args.batch_scale)
    print(f"alpha {args.alpha_us:g} us; compute per rank: {args.speedup:g}x the bench machine (2 threads), "
          f"batch {args.batch_scale}x; "
          f"training rate from ResNet-20 {resnet_rate / 1e9:.1f} GFLOP/s, from the VGG stack {vgg_rate / 1e9:.1f} GFLOP/s")
    print()
    for name, size, batch, comp in [] if args.summary else table:
        print(f"**{name}**: gradient {size / 1e6:.1f} MB, batch {batch} per rank, compute {fmt_ms(comp)} ms per iteration per rank")
        print()
        head = " | ".join(f"{g} Gb/s: comm ms, eff, eff overlap" for g in LINKS_GBIT)
        print(f"| ranks | {head} |")
        print("|---:|" + "---:|" * len(LINKS_GBIT))
        for n in RANKS:
            cells = []
            for g in LINKS_GBIT:
                comm, plain, overlap = efficiencies(size, comp, n, g * GBIT, alpha)
                cells.append(f"{fmt_ms(comm)}, {plain:.0%}, {overlap:.0%}")
            print(f"| {n} | " + " | ".join(cells) + " |")
        print()
    print("**Where it stops**: the most ranks (of 2 to 256) that keep 90% and 50% efficiency, "
          "without overlap / with overlap (none: not even 2)")
    print()
    print("| net | " + " | ".join(f"{g} Gb/s: 90% | {g} Gb/s: 50%" for g in LINKS_GBIT) + " |")
    print("|---|" + "---|" * 2 * len(LINKS_GBIT))
    for name, size, batch, comp in table:
        cells = []
        for g in LINKS_GBIT:
            for target in (0.9, 0.5):
                parts = []
                for pick in (1, 2):
                    ok = [n for n in RANKS if efficiencies(size, comp, n, g * GBIT, alpha)[pick] >= target]
                    parts.append(str(max(ok)) if ok else "none")
                cells.append(" / ".join(parts))
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
