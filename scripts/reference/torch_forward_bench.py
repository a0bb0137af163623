#!/usr/bin/env python3
"""PyTorch's forward pass on a lab model file's model, one thread, for scripts/bench-scorer.ts.

Loads the model file with lab_model.py (weights checked and decoded, the raw-line encoder), builds
the equivalent torch model in float32 (one embedding table with field offsets, the FM linear term
and pairwise term, the MLP with nn.BatchNorm1d in eval mode; a pruned or otherwise compressed
table is read back into the dense [N, d] table, zeros included, as PEP's own code infers), checks
its probabilities against lab_model.py's (and the Node scorer's, with --node-probs), then times:

- forward only, on the rows already encoded to ids (parsing excluded), batch 1 and batch 1024;
- end to end: the raw lines encoded with lab_model.py's RowEncoder, then torch's forward in
  batches of 1024.

Each figure is rows/s over passes of all rows for >= --seconds, the median of --reps runs. Prints
one JSON line.

    python3 scripts/reference/torch_forward_bench.py MODEL.json ROWS [--rows 10000] [--seconds 3]
        [--reps 5] [--node-probs FILE (float64 little-endian, one per scored row)]
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab_model import load_model  # noqa: E402


class FmFamily(nn.Module):
    """FM / DeepFM / Wide&Deep as the lab computes them, in float32."""

    def __init__(self, model):
        super().__init__()
        if model.model not in ("fm", "deepfm", "widedeep"):
            raise SystemExit(f"torch_forward_bench: {model.model} is not an FM-family model")
        self.fm = model.model != "widedeep"
        rows = model.field_rows
        table = np.concatenate([look(np.arange(n)) for look, n in zip(model.lookups, rows)])
        f32 = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
        self.embedding = nn.Embedding.from_pretrained(f32(table), freeze=True)
        self.linear = nn.Embedding.from_pretrained(f32(model.linear_w).unsqueeze(1), freeze=True)
        self.bias = nn.Parameter(f32([model.bias]), requires_grad=False)
        self.register_buffer("offsets", torch.tensor(model.offsets, dtype=torch.int64))
        self.mlp = None
        if model.model != "fm":
            layers, ref, tensors = [], model.arch["mlp"], model.tensors
            for h in ref["hidden"]:
                w = tensors[h["linear"]["weight"]][1]
                lin = nn.Linear(w.shape[0], w.shape[1])
                lin.weight.data = f32(w.T).contiguous()
                lin.bias.data = f32(tensors[h["linear"]["bias"]][1])
                layers.append(lin)
                if h["norm"] is not None:
                    n = h["norm"]
                    bn = nn.BatchNorm1d(w.shape[1], eps=n["eps"])
                    bn.weight.data = f32(tensors[n["gamma"]][1])
                    bn.bias.data = f32(tensors[n["beta"]][1])
                    bn.running_mean.data = f32(tensors[n["runningMean"]][1])
                    bn.running_var.data = f32(tensors[n["runningVar"]][1])
                    layers.append(bn)
                layers.append(nn.ReLU())
            w = tensors[ref["output"]["weight"]][1]
            out = nn.Linear(w.shape[0], 1)
            out.weight.data = f32(w.T).contiguous()
            out.bias.data = f32(tensors[ref["output"]["bias"]][1])
            layers.append(out)
            self.mlp = nn.Sequential(*layers)
        self.eval()

    def forward(self, ids):  # ids [B, M] per-field ids
        x = ids + self.offsets
        emb = self.embedding(x)  # [B, M, d]
        logit = self.linear(x).sum(dim=(1, 2)) + self.bias
        if self.fm:
            s = emb.sum(dim=1)
            logit = logit + 0.5 * (s * s - (emb * emb).sum(dim=1)).sum(dim=1)
        if self.mlp is not None:
            logit = logit + self.mlp(emb.flatten(1)).squeeze(1)
        return torch.sigmoid(logit)


def rate(pass_, rows, seconds):
    n, t0 = 0, time.perf_counter()
    while True:
        pass_()
        n += rows
        t = time.perf_counter()
        if t - t0 >= seconds:
            return n / (t - t0)


def measure(pass_, rows, seconds, reps):
    rate(pass_, rows, min(1.0, seconds))  # warm-up
    runs = [rate(pass_, rows, seconds) for _ in range(reps)]
    return statistics.median(runs), runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("rows")
    ap.add_argument("--rows", dest="limit", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--node-probs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    model = load_model(args.model)
    enc = model.encoder("auto")
    with open(args.rows, encoding="utf-8", errors="replace") as fh:
        lines = [ln.rstrip("\r\n") for ln in fh][: args.limit]
    rows = [r for r in map(enc.encode, lines) if not isinstance(r, str)]
    ids_np = np.array([r[0] for r in rows], dtype=np.int64)
    ids = torch.from_numpy(ids_np)
    net = FmFamily(model)

    with torch.inference_mode():
        p_torch = torch.cat([net(ids[i : i + 1024]) for i in range(0, len(ids), 1024)]).double().numpy()
        p_ref = model.probabilities(ids_np)
        check = {"maxAbsDiffVsLabModel": float(np.abs(p_torch - p_ref).max())}
        if args.node_probs:
            p_node = np.fromfile(args.node_probs, dtype="<f8")
            if len(p_node) != len(p_ref):
                raise SystemExit(f"{args.node_probs}: {len(p_node)} rows, {len(p_ref)} expected")
            check["maxAbsDiffVsNode"] = float(np.abs(p_torch - p_node).max())
            check["labModelVsNode"] = float(np.abs(p_ref - p_node).max())
        if not np.isfinite(p_torch).all():
            raise SystemExit("torch_forward_bench: non-finite probabilities")

        def forward(batch):
            def pass_():
                for i in range(0, len(ids), batch):
                    net(ids[i : i + batch])

            return pass_

        def end_to_end():
            encoded = [r for r in map(enc.encode, lines) if not isinstance(r, str)]
            x = torch.tensor([r[0] for r in encoded], dtype=torch.int64)
            for i in range(0, len(x), 1024):
                net(x[i : i + 1024])

        n = len(rows)
        b1, b1_runs = measure(forward(1), n, args.seconds, args.reps)
        b1024, b1024_runs = measure(forward(1024), n, args.seconds, args.reps)
        e2e, e2e_runs = measure(end_to_end, n, args.seconds, min(args.reps, 3))
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "rows": n,
                "batch1": b1,
                "batch1024": b1024,
                "endToEnd1024": e2e,
                "runs": {"batch1": b1_runs, "batch1024": b1024_runs, "endToEnd1024": e2e_runs},
                **check,
            }
        )
    )


if __name__ == "__main__":
    main()
