#!/usr/bin/env python3
"""Two or more builds of loom-bench against each other, alternated in one run.

On a shared machine a lone timing moves by 10-20% from one minute to the next, so a change is
judged by running the builds in turn, round after round, and comparing the minimum and the
median of each build's medians. Each round runs every build once per config and mode (the
order of the builds rotates from round to round); each run is `loom-bench --config NAME
--mode MODE --json --reps R`, pinned to one CPU with `taskset` when `--cpu` is given.

Python 3 standard library only.

usage: python3 Benchmarks/ab.py [--config NAME ...] [--mode inference|train|both] [--rounds 5]
       [--reps 5] [--cpu N] BUILD [BUILD ...]
Copy each build's .build/release/loom-bench somewhere first (the next build overwrites it),
and run nothing else meanwhile: a compile beside a benchmark can halve its figure.
"""
import argparse
import json
import statistics
import subprocess
import sys


def run_once(build, config, mode, reps, cpu):
    command = [build, "--config", config, "--mode", mode, "--json", "--reps", str(reps)]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu)] + command
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("config") == config and record.get("mode") == mode:
                return float(record["median_ms"])
    raise RuntimeError(f"{build}: no {config} {mode} line in its output")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("builds", nargs="+", help="loom-bench executables to compare (the first is the baseline)")
    parser.add_argument("--config", action="append", help="config to time (repeatable; default lstm-small)")
    parser.add_argument("--mode", default="both", choices=["inference", "train", "both"])
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the builds")
    parser.add_argument("--reps", type=int, default=5, help="loom-bench --reps per run")
    parser.add_argument("--cpu", type=int, help="pin every run to this CPU with taskset")
    args = parser.parse_args()
    configs = args.config or ["lstm-small"]
    modes = ["inference", "train"] if args.mode == "both" else [args.mode]

    times = {(build, config, mode): [] for build in args.builds for config in configs for mode in modes}
    for round_index in range(args.rounds):
        shift = round_index % len(args.builds)
        order = args.builds[shift:] + args.builds[:shift]
        for config in configs:
            for mode in modes:
                for build in order:
                    times[(build, config, mode)].append(run_once(build, config, mode, args.reps, args.cpu))
        print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr)

    print(f"{args.rounds} rounds of loom-bench --reps {args.reps}; ms per call, min and median of the rounds; "
          f"ratio = the build's median / the first build's")
    print()
    print("| config | mode | build | min ms | median ms | ratio |")
    print("|---|---|---|---:|---:|---:|")
    for config in configs:
        for mode in modes:
            baseline = statistics.median(times[(args.builds[0], config, mode)])
            for build in args.builds:
                values = times[(build, config, mode)]
                median = statistics.median(values)
                print(f"| {config} | {mode} | {build} | {min(values):.3f} | {median:.3f} | {median / baseline:.3f} |")


if __name__ == "__main__":
    main()
