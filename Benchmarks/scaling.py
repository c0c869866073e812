#!/usr/bin/env python3
"""Scaling of BiLSTM training with the longest length: Loom against PyTorch.

For T = 50, 100, 200, 400, 800: a BiLSTM(100→128), batch 32, lengths uniform in [T//3, T]
(Python's random.Random(0), the first one T), one training step = forward + backward of
sum(output) over the padded output, one thread. Loom runs `loom-bench --sweep-point T`
(a fresh process per T); PyTorch runs the small script below with the torch venv's python
(also a fresh process per T; packed input, `enforce_sorted=False`, as tools/pytorch_bench.py).
For each T the two tools run one after the other, `--repeats` times, alternating which
goes first; the reported time is the median over the repetitions of each tool's median.
Peak memory is the process's VmHWM (/proc/self/status) minus its RSS before the first step.

Writes Benchmarks/scaling.json (the data) and Docs/scaling.svg (hand-written SVG: time per
batch vs the longest length, log-log, and time per real step), and prints a markdown table.

Python 3 standard library only (the PyTorch side runs in its own interpreter).

usage: python3 Benchmarks/scaling.py [--repeats 2] [--reps 3] [--steps 50,100,200,400,800]
       [--loom .build/release/loom-bench] [--torch-python /tmp/torch-venv/bin/python]
       [--json Benchmarks/scaling.json] [--svg Docs/scaling.svg] [--plot-only]
Build first: swift build -c release --product loom-bench
"""
import argparse
import datetime
import json
import math
import os
import random
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The PyTorch measurement of one T, run as `python -c TORCH_SCRIPT T reps`. Prints one JSON line.
TORCH_SCRIPT = r"""
import json, random, statistics, sys, time
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

def rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

T, reps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(1)
torch.manual_seed(0)
rng = random.Random(0)
B, I, H = 32, 100, 128
lengths = [rng.randint(T // 3, T) for _ in range(B)]
lengths[0] = T
m = torch.nn.LSTM(I, H, bidirectional=True, batch_first=True)
x = torch.randn(B, T, I, requires_grad=True)
lt = torch.tensor(lengths)
baseline = rss_kb("VmRSS")

def train():
    m.zero_grad(set_to_none=True); x.grad = None
    out, _ = m(pack_padded_sequence(x, lt, batch_first=True, enforce_sorted=False))
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
    out.sum().backward()

train()  # warm-up
samples = []
for _ in range(reps):
    t0 = time.perf_counter(); train(); samples.append(time.perf_counter() - t0)
print(json.dumps({"steps": T, "real_steps": sum(lengths), "train_ms": statistics.median(samples) * 1e3,
                  "baseline_kb": baseline, "peak_kb": rss_kb("VmHWM")}))
"""


def python_lengths(steps, batch=32):
    rng = random.Random(0)
    lengths = [rng.randint(steps // 3, steps) for _ in range(batch)]
    lengths[0] = steps
    return lengths


def run_loom(loom, steps, reps):
    out = subprocess.run([loom, "--sweep-point", str(steps), "--threads", "1", "--reps", str(reps)],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    t, real, ms, baseline, peak = out.split()
    return {"steps": int(t), "real_steps": int(real), "train_ms": float(ms),
            "baseline_kb": int(baseline), "peak_kb": int(peak)}


def run_torch(python, steps, reps):
    out = subprocess.run([python, "-c", TORCH_SCRIPT, str(steps), str(reps)],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return json.loads(out)


def summarize(samples):
    """The median time and the largest extra memory over a tool's repetitions."""
    first = samples[0]
    return {"steps": first["steps"], "real_steps": first["real_steps"],
            "train_ms": statistics.median(s["train_ms"] for s in samples),
            "train_ms_samples": [round(s["train_ms"], 3) for s in samples],
            "extra_mb": max((s["peak_kb"] - s["baseline_kb"]) / 1024 for s in samples)}


def measure(args):
    steps_list = [int(s) for s in args.steps.split(",")]
    result = {"description": "BiLSTM(100->128) training step (forward + backward of sum(output)), B32, "
                             "lengths uniform in [T//3, T] (random.Random(0)), the first T; one thread",
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "repeats": args.repeats, "reps": args.reps, "points": []}
    for steps in steps_list:
        lengths = python_lengths(steps)
        loom_samples, torch_samples = [], []
        for repeat in range(args.repeats):
            order = ("loom", "torch") if repeat % 2 == 0 else ("torch", "loom")
            for tool in order:
                if tool == "loom":
                    loom_samples.append(run_loom(args.loom, steps, args.reps))
                    assert loom_samples[-1]["real_steps"] == sum(lengths), "Loom's lengths differ from Python's"
                else:
                    # PyTorch's packed backward is slow at large T: fewer timed runs there.
                    torch_samples.append(run_torch(args.torch_python, steps, args.reps if steps <= 200 else max(1, args.reps - 1)))
                    assert torch_samples[-1]["real_steps"] == sum(lengths)
        loom, torch = summarize(loom_samples), summarize(torch_samples)
        point = {"steps": steps, "real_steps": sum(lengths), "loom": loom, "pytorch": torch,
                 "ratio": torch["train_ms"] / loom["train_ms"]}
        result["points"].append(point)
        print(f"T={steps}: real steps {sum(lengths)}, Loom {loom['train_ms']:.1f} ms, PyTorch {torch['train_ms']:.1f} ms, "
              f"ratio {point['ratio']:.1f}", file=sys.stderr, flush=True)
    return result


# ---------------------------------------------------------------- the SVG plot

LOOM_COLOR, TORCH_COLOR = "#1f77b4", "#d62728"


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Panel:
    """One chart: data coordinates to SVG pixels, axes, ticks and polylines."""

    def __init__(self, x, y, width, height, xs, ymin, ymax, xlog, ylog):
        self.x, self.y, self.w, self.h = x, y, width, height
        self.xlog, self.ylog = xlog, ylog
        # A margin around the data so the end points and their labels stay off the frame.
        self.xmin, self.xmax = (min(xs) / 1.25, max(xs) * 1.25) if xlog else (min(xs), max(xs))
        self.ymin, self.ymax = ymin, ymax
        self.parts = []

    def _t(self, v, lo, hi, log):
        if log:
            return (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return (v - lo) / (hi - lo)

    def px(self, v):
        return self.x + self._t(v, self.xmin, self.xmax, self.xlog) * self.w

    def py(self, v):
        return self.y + self.h - self._t(v, self.ymin, self.ymax, self.ylog) * self.h

    def frame(self, title, xlabel, ylabel, xticks, yticks, yfmt):
        p = self.parts
        p.append(f'<rect x="{self.x}" y="{self.y}" width="{self.w}" height="{self.h}" fill="#ffffff" stroke="#333" stroke-width="1"/>')
        for v in yticks:
            yy = self.py(v)
            p.append(f'<line x1="{self.x}" y1="{yy:.1f}" x2="{self.x + self.w}" y2="{yy:.1f}" stroke="#ddd" stroke-width="1"/>')
            p.append(f'<text x="{self.x - 8}" y="{yy + 4:.1f}" text-anchor="end" font-size="13">{esc(yfmt(v))}</text>')
        for v in xticks:
            xx = self.px(v)
            p.append(f'<line x1="{xx:.1f}" y1="{self.y}" x2="{xx:.1f}" y2="{self.y + self.h}" stroke="#eee" stroke-width="1"/>')
            p.append(f'<text x="{xx:.1f}" y="{self.y + self.h + 18}" text-anchor="middle" font-size="13">{v}</text>')
        p.append(f'<text x="{self.x + self.w / 2}" y="{self.y - 12}" text-anchor="middle" font-size="15" font-weight="bold">{esc(title)}</text>')
        p.append(f'<text x="{self.x + self.w / 2}" y="{self.y + self.h + 40}" text-anchor="middle" font-size="13">{esc(xlabel)}</text>')
        cx, cy = self.x - 62, self.y + self.h / 2
        p.append(f'<text x="{cx}" y="{cy}" text-anchor="middle" font-size="13" transform="rotate(-90 {cx} {cy})">{esc(ylabel)}</text>')

    def series(self, xs, ys, color, labels=None, label_above=True):
        pts = " ".join(f"{self.px(a):.1f},{self.py(b):.1f}" for a, b in zip(xs, ys))
        self.parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2.5"/>')
        for i, (a, b) in enumerate(zip(xs, ys)):
            self.parts.append(f'<circle cx="{self.px(a):.1f}" cy="{self.py(b):.1f}" r="4" fill="{color}"/>')
            if labels:
                dy = -9 if label_above else 18
                self.parts.append(f'<text x="{self.px(a):.1f}" y="{self.py(b) + dy:.1f}" text-anchor="middle" '
                                  f'font-size="12" fill="{color}">{esc(labels[i])}</text>')


def log_ticks(lo, hi):
    ticks = []
    decade = 10 ** math.floor(math.log10(lo))
    while decade <= hi:
        for m in (1, 2, 5):
            v = m * decade
            if lo <= v <= hi:
                ticks.append(v)
        decade *= 10
    return ticks


def ms_label(v):
    return f"{v / 1000:g} s" if v >= 1000 else f"{v:g} ms"


def time_label(ms):
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def draw_svg(data, path):
    pts = data["points"]
    ts = [p["steps"] for p in pts]
    loom_ms = [p["loom"]["train_ms"] for p in pts]
    torch_ms = [p["pytorch"]["train_ms"] for p in pts]
    loom_us = [p["loom"]["train_ms"] * 1000 / p["real_steps"] for p in pts]
    torch_us = [p["pytorch"]["train_ms"] * 1000 / p["real_steps"] for p in pts]
    width, height = 1100, 580
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
             f'<rect width="{width}" height="{height}" fill="#fafafa"/>',
             f'<text x="{width / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold">'
             f'BiLSTM(100→128) training step, batch 32, lengths uniform in [T/3, T], one thread</text>']

    lo = 10 ** math.floor(math.log10(min(loom_ms + torch_ms)))
    hi = 10 ** math.ceil(math.log10(max(loom_ms + torch_ms)))
    left = Panel(95, 80, 430, 380, ts, lo, hi, True, True)
    left.frame("time per batch (forward + backward), log-log", "longest length T (steps)", "time per batch",
               ts, log_ticks(lo, hi), ms_label)
    left.series(ts, torch_ms, TORCH_COLOR, [time_label(v) for v in torch_ms], True)
    left.series(ts, loom_ms, LOOM_COLOR, [time_label(v) for v in loom_ms], False)

    ymax = max(torch_us) * 1.15
    right = Panel(640, 80, 430, 380, ts, 0, ymax, True, False)
    step = 100 if ymax > 500 else 50 if ymax > 200 else 20
    right.frame("time per real step (per unit of Σ lengths)", "longest length T (steps)", "µs per real step",
                ts, list(range(0, int(ymax) + 1, step)), lambda v: f"{v:g}")
    right.series(ts, torch_us, TORCH_COLOR, [f"{v:.0f}" for v in torch_us], True)
    right.series(ts, loom_us, LOOM_COLOR, [f"{v:.0f}" for v in loom_us], True)
    parts += left.parts + right.parts

    # Legend and the ratio line.
    ly = height - 58
    parts.append(f'<line x1="120" y1="{ly}" x2="150" y2="{ly}" stroke="{TORCH_COLOR}" stroke-width="3"/>')
    parts.append(f'<text x="158" y="{ly + 5}" font-size="14">PyTorch 2.15 (packed, enforce_sorted=False)</text>')
    parts.append(f'<line x1="500" y1="{ly}" x2="530" y2="{ly}" stroke="{LOOM_COLOR}" stroke-width="3"/>')
    parts.append(f'<text x="538" y="{ly + 5}" font-size="14">Loom (fused recurrence, shrinking batch)</text>')
    ratios = ", ".join(f"T={p['steps']}: {p['ratio']:.1f}×" for p in pts)
    parts.append(f'<text x="{width / 2}" y="{height - 30}" text-anchor="middle" font-size="14" fill="#222">'
                 f'PyTorch time / Loom time — {esc(ratios)}</text>')
    parts.append(f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle" font-size="12" fill="#555">'
                 f'{esc(data["date"])}; each time the median of {data["repeats"]} interleaved runs of each tool '
                 f'(each run: the median of {data["reps"]} steps after a warm-up); Benchmarks/scaling.py</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def markdown(data):
    lines = ["| T | real steps | PyTorch ms | Loom ms | ratio | PyTorch µs / real step | Loom µs / real step "
             "| PyTorch extra MB | Loom extra MB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in data["points"]:
        lo, to, n = p["loom"], p["pytorch"], p["real_steps"]
        lines.append(f"| {p['steps']} | {n} | {to['train_ms']:.1f} | {lo['train_ms']:.1f} | {p['ratio']:.1f} "
                     f"| {to['train_ms'] * 1000 / n:.1f} | {lo['train_ms'] * 1000 / n:.1f} "
                     f"| {to['extra_mb']:.1f} | {lo['extra_mb']:.1f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=2, help="interleaved runs of each tool per T (default 2)")
    ap.add_argument("--reps", type=int, default=3, help="timed steps inside each run (default 3)")
    ap.add_argument("--steps", default="50,100,200,400,800")
    ap.add_argument("--loom", default=os.path.join(ROOT, ".build", "release", "loom-bench"))
    ap.add_argument("--torch-python", default="/tmp/torch-venv/bin/python")
    ap.add_argument("--json", default=os.path.join(HERE, "scaling.json"))
    ap.add_argument("--svg", default=os.path.join(ROOT, "Docs", "scaling.svg"))
    ap.add_argument("--plot-only", action="store_true", help="redraw the SVG from the JSON file without measuring")
    args = ap.parse_args()
    if args.plot_only:
        with open(args.json) as f:
            data = json.load(f)
    else:
        data = measure(args)
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
    draw_svg(data, args.svg)
    print(markdown(data))
    print(f"\nwrote {args.json} and {args.svg}", file=sys.stderr)


if __name__ == "__main__":
    main()
