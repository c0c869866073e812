#!/usr/bin/env python3
"""Peak memory of one training step, Loom against PyTorch, config by config.

usage: python3 Benchmarks/memory.py [--config NAME ...] [--loom PATH] [--torch-python PATH]
                                    [--pytorch-script PATH]

Each measurement runs in a fresh process. After one warm-up training step, memory the
allocator kept from it is handed back to the system (glibc's malloc_trim), the process's
resident high-water mark is reset (writing 5 to /proc/self/clear_refs, Linux), the resident
size is read, one more training step runs, and the new high-water mark (VmHWM) minus that
baseline is the step's peak: what the step itself needs, not the libraries' code and data.
Loom's side is `loom-bench --memory --json`; PyTorch's side builds the same model and input
as tools/pytorch_bench.py (same configs, same lengths). Prints a markdown table.

Python 3 standard library only (PyTorch runs in the torch venv's python).
"""
import argparse, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))

TORCH_SIDE = r'''
import importlib.util, json, random, sys
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
spec = importlib.util.spec_from_file_location("pytorch_bench", sys.argv[1])
bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)
name = sys.argv[2]
c = bench.CONFIGS[name]
torch.set_num_threads(1)
torch.manual_seed(0); rng = random.Random(0)

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

if c["kind"] == "tagger":
    B = c["B"]
    emb = torch.nn.Embedding(c["V"], c["E"], padding_idx=0)
    lstm = torch.nn.LSTM(c["E"], c["H"], bidirectional=True, batch_first=True)
    lin = torch.nn.Linear(2 * c["H"], c["tags"])
    opt = torch.optim.Adam(list(emb.parameters()) + list(lstm.parameters()) + list(lin.parameters()), lr=1e-3)
    lengths = [rng.randint(*c["lengths"]) for _ in range(B)]
    T = max(lengths)
    tokens = torch.zeros(B, T, dtype=torch.long); tags = torch.full((B, T), -100, dtype=torch.long)
    for b, L in enumerate(lengths):
        tokens[b, :L] = torch.randint(1, c["V"], (L,)); tags[b, :L] = torch.randint(0, c["tags"], (L,))
    lt = torch.tensor(lengths)
    def train():
        opt.zero_grad(set_to_none=True)
        p = pack_padded_sequence(emb(tokens), lt, batch_first=True, enforce_sorted=False)
        out, _ = lstm(p)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        F.cross_entropy(lin(out).reshape(-1, c["tags"]), tags.reshape(-1), ignore_index=-100).backward()
        opt.step()
else:
    M = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[c["kind"]]
    m = M(c["I"], c["H"], num_layers=c.get("layers", 1), bidirectional=c.get("bidir", False), batch_first=True)
    B, T = c["B"], c["T"]
    lengths = [rng.randint(*c["packed"]) for _ in range(B)] if "packed" in c else [T] * B
    lengths[0] = T
    x = torch.randn(B, T, c["I"], requires_grad=True)
    lt = torch.tensor(lengths)
    def train():
        m.zero_grad(set_to_none=True); x.grad = None
        inp = pack_padded_sequence(x, lt, batch_first=True, enforce_sorted=False) if "packed" in c else x
        out, _ = m(inp)
        if "packed" in c:
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        out.sum().backward()

train()
import ctypes
ctypes.CDLL("libc.so.6").malloc_trim(0)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
baseline = status("VmRSS")
train()
peak = status("VmHWM")
print(json.dumps({"config": name, "peak_extra_mb": round(max(peak - baseline, 0) / 1024, 1)}))
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", action="append")
    ap.add_argument("--loom", default=os.path.join(HERE, "..", ".build", "release", "loom-bench"))
    ap.add_argument("--torch-python", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "torch-venv", "bin", "python"))
    ap.add_argument("--pytorch-script", default=os.path.join(HERE, "..", "..", "shared", "tools", "pytorch_bench.py"))
    a = ap.parse_args()
    configs = a.config or ["lstm-tiny", "lstm-small", "lstm-medium", "lstm-large", "gru-medium", "rnn-medium",
                           "bilstm2-packed", "bilstm-long-100", "bilstm-long-400", "tagger-step"]
    print("| config | PyTorch step peak MB | Loom step peak MB | Loom / PyTorch |")
    print("|---|---:|---:|---:|")
    for name in configs:
        torch_out = subprocess.run([a.torch_python, "-c", TORCH_SIDE, a.pytorch_script, name],
                                   capture_output=True, text=True, check=True).stdout
        loom_out = subprocess.run([a.loom, "--memory", "--json", "--config", name],
                                  capture_output=True, text=True, check=True).stdout
        torch_mb = json.loads(torch_out.strip().splitlines()[-1])["peak_extra_mb"]
        loom_mb = json.loads(loom_out.strip().splitlines()[-1])["peak_extra_mb"]
        ratio = loom_mb / torch_mb if torch_mb > 0 else float("nan")
        print(f"| {name} | {torch_mb:.1f} | {loom_mb:.1f} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
