#!/usr/bin/env python3
"""Loom against PyTorch, side by side on the same machine in the same run.

For each repetition and each config, runs the PyTorch script (tools/pytorch_bench.py, with
the torch venv's python) and then `loom-bench --json`, one config at a time, so both see the
same machine state; the reported time is the median over the repetitions of each tool's
median. Prints a markdown table: config, mode, PyTorch ms, Loom ms, ratio (PyTorch / Loom),
the goal of the product specification (PRODUCT.md, kept beside the repository), whether it is met, and Loom's GFLOP/s.

Python 3 standard library only.

usage: python3 Benchmarks/compare.py [--repeats 3] [--reps 5] [--threads 1] [--config NAME ...]
       [--loom .build/release/loom-bench] [--torch-python /tmp/torch-venv/bin/python]
       [--pytorch-script ../shared/tools/pytorch_bench.py] [--raw FILE]
Build first: swift build -c release --product loom-bench
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIGS = ["lstm-tiny", "lstm-small", "lstm-medium", "lstm-large", "gru-medium", "rnn-medium",
           "bilstm2-packed", "bilstm-long-100", "bilstm-long-400", "tagger-step", "custom-loop-lstm-small",
           "custom-lstm-small", "custom-lnlstm-packed"]

# The product specification's performance goals (PRODUCT.md, kept beside the repository): (inference, train) ratio = PyTorch time / Loom time.
GOALS = {
    "lstm-tiny": (3.0, 3.0),
    "lstm-small": (1.3, 1.5),
    "lstm-medium": (1.05, 1.3),
    "lstm-large": (1.1, 1.4),
    "gru-medium": (2.0, 2.0),
    "rnn-medium": (2.0, 2.0),
    "bilstm2-packed": (2.5, 4.0),
    "tagger-step": (2.5, 4.0),
    "bilstm-long-100": (2.5, 5.0),
    "bilstm-long-400": (2.5, 15.0),
    "custom-loop-lstm-small": (1.5, 1.5),
    "custom-lstm-small": (2.5, 2.5),
    "custom-lnlstm-packed": (2.5, 2.5),
}

# The variable-length configs of pytorch_bench.py: (low, high, batch, first length or None).
LENGTHS = {
    "bilstm2-packed": (10, 50, 32, 50),
    "bilstm-long-100": (33, 100, 32, 100),
    "bilstm-long-400": (133, 400, 32, 400),
    "tagger-step": (5, 40, 32, None),
    "custom-lnlstm-packed": (10, 50, 32, 50),
}


def python_lengths(name):
    low, high, batch, first = LENGTHS[name]
    rng = random.Random(0)
    lengths = [rng.randint(low, high) for _ in range(batch)]
    if first is not None:
        lengths[0] = first
    return lengths


def check_lengths(loom):
    """Loom's lengths (`--print-lengths`) must be exactly the ones Python's random draws."""
    out = subprocess.run([loom, "--print-lengths"], check=True, capture_output=True, text=True).stdout
    loom_lengths = {}
    for line in out.splitlines():
        name, *values = line.split()
        loom_lengths[name] = [int(v) for v in values]
    ok = True
    for name in LENGTHS:
        same = loom_lengths.get(name) == python_lengths(name)
        ok &= same
        print(f"lengths {name}: {'identical' if same else 'DIFFERENT'} (sum {sum(python_lengths(name))})", file=sys.stderr)
    return ok


def run_json(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"failed: {' '.join(command)}\n{result.stderr}", file=sys.stderr)
        return []
    rows = []
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repetitions (default 3)")
    ap.add_argument("--reps", type=int, default=5, help="timed runs inside each tool per repetition (default 5)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--config", action="append", help="only these configs (repeatable)")
    ap.add_argument("--loom", default=os.path.join(ROOT, ".build", "release", "loom-bench"))
    ap.add_argument("--torch-python", default="/tmp/torch-venv/bin/python")
    ap.add_argument("--pytorch-script", default=os.path.join(ROOT, "..", "shared", "tools", "pytorch_bench.py"))
    ap.add_argument("--raw", help="also write every measured JSON line to this file")
    a = ap.parse_args()

    configs = a.config or CONFIGS
    if not check_lengths(a.loom):
        print("the sequence lengths differ between Loom and Python: fix that first", file=sys.stderr)
        return 1

    times = {}   # (tool, config, mode) -> [median_ms per repetition]
    gflops = {}  # (config, mode) -> [Loom GFLOP/s per repetition]
    raw = []
    for repeat in range(a.repeats):
        for name in configs:
            torch_rows = run_json([a.torch_python, a.pytorch_script, "--threads", str(a.threads),
                                   "--config", name, "--reps", str(a.reps)])
            loom_rows = run_json([a.loom, "--json", "--threads", str(a.threads), "--config", name, "--reps", str(a.reps)])
            for tool, rows in (("pytorch", torch_rows), ("loom", loom_rows)):
                for row in rows:
                    times.setdefault((tool, row["config"], row["mode"]), []).append(row["median_ms"])
                    if tool == "loom":
                        gflops.setdefault((row["config"], row["mode"]), []).append(row["gflops"])
                    raw.append(dict(row, tool=tool, repeat=repeat))
            summary = "  ".join(f"{r['mode']}: torch {t['median_ms']:.3f} / loom {r['median_ms']:.3f} ms"
                                for t, r in zip(torch_rows, loom_rows))
            print(f"[{repeat + 1}/{a.repeats}] {name}: {summary}", file=sys.stderr, flush=True)
    if a.raw:
        with open(a.raw, "w") as f:
            for row in raw:
                f.write(json.dumps(row) + "\n")

    print(f"threads {a.threads}; each time is the median over {a.repeats} interleaved repetitions "
          f"of each tool's median of {a.reps} runs\n")
    print("| config | mode | PyTorch ms | Loom ms | ratio | goal | met? | Loom GFLOP/s |")
    print("|---|---|---:|---:|---:|---:|:---:|---:|")
    for name in configs:
        for index, mode in enumerate(("inference", "train")):
            torch_times = times.get(("pytorch", name, mode))
            loom_times = times.get(("loom", name, mode))
            if not torch_times or not loom_times:
                print(f"| {name} | {mode} | | | | | missing | |")
                continue
            torch_ms, loom_ms = statistics.median(torch_times), statistics.median(loom_times)
            ratio = torch_ms / loom_ms
            goal = GOALS[name][index]
            rate = statistics.median(gflops[(name, mode)])
            print(f"| {name} | {mode} | {torch_ms:.3f} | {loom_ms:.3f} | {ratio:.2f} | ≥ {goal:g} | "
                  f"{'yes' if ratio >= goal else 'no'} | {rate:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
