"""Checks Loom's safetensors checkpoints against real PyTorch (needs torch and safetensors).

    python safetensors_interop.py prepare DIR   # PyTorch writes an LSTM and its outputs
    LOOM_TORCH_INTEROP=DIR swift test --filter interopWithRealPyTorch
    python safetensors_interop.py verify DIR    # PyTorch loads what Loom wrote

`prepare` saves nn.LSTM(5, 6, num_layers=2, batch_first=True, bidirectional=True) in
float64 with safetensors.torch.save_file, plus inputs (x, int64 lengths, h0, c0) and
PyTorch's outputs over the packed batch. The Swift test loads both, checks the outputs
to 1e-9 and saves a fresh float32 Loom LSTM. `verify` loads that checkpoint with
safetensors and load_state_dict(strict=True), and checks that safetensors' own writer
produces the same bytes as Loom's for the same tensors and metadata.
"""
import pathlib
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def nn_lstm():
    return torch.nn.LSTM(5, 6, num_layers=2, batch_first=True, bidirectional=True)


def prepare(folder: pathlib.Path):
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    lstm = nn_lstm().double()
    save_file(lstm.state_dict(), folder / "torch_lstm.safetensors", metadata={"format": "pt"})
    x = torch.randn(3, 7, 5, dtype=torch.float64)
    lengths = torch.tensor([7, 3, 5], dtype=torch.int64)
    h0 = torch.randn(4, 3, 6, dtype=torch.float64)
    c0 = torch.randn(4, 3, 6, dtype=torch.float64)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(packed, (h0, c0))
    output, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=7)
    save_file({"x": x, "lengths": lengths, "h0": h0, "c0": c0,
               "output": output.contiguous(), "h_n": h_n.contiguous(), "c_n": c_n.contiguous()},
              folder / "io.safetensors")
    print(f"prepared {folder}")


def verify(folder: pathlib.Path):
    path = folder / "loom_lstm.safetensors"
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    assert metadata == {"format": "pt"}, metadata
    tensors = load_file(str(path))
    assert all(t.dtype == torch.float32 for t in tensors.values())
    lstm = nn_lstm()
    lstm.load_state_dict(tensors, strict=True)
    print(f"loaded {len(tensors)} tensors into nn.LSTM with strict=True")
    copy = folder / "torch_rewrite.safetensors"
    save_file(tensors, copy, metadata={"format": "pt"})
    same = copy.read_bytes() == path.read_bytes()
    print("safetensors rewrites Loom's checkpoint byte for byte:", same)
    plain = folder / "torch_rewrite_plain.safetensors"
    save_file(tensors, plain)
    same_plain = plain.read_bytes() == (folder / "loom_lstm_copy.safetensors").read_bytes()
    print("same without metadata:", same_plain)
    if not (same and same_plain):
        sys.exit(1)


if __name__ == "__main__":
    command, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    {"prepare": prepare, "verify": verify}[command](folder)
