#!/usr/bin/env python3
"""PyTorch's training speed for the models `npm run bench` times in the lab, on the same machine.

Each model is built as the official code trains it on Criteo (../shared/docs/ALGORITHMS.md) and
as the lab's bench:models runs it:

- FM, DeepFM, Wide&Deep, AutoInt as PEP's train_criteo.py: 39 fields, d=24, MLP 400-400-400 with
  BatchNorm, ReLU and dropout 0.2, Adam lr 1e-3 with weight_decay 1e-5, batch 1024 (AutoInt: 3
  layers of 2-head self-attention of width 64 with residuals, plus the MLP);
- DLRM as UMEC's joint_train.py: 13 dense features, 26 tables of 16, bottom MLP 13-512-256-64-16,
  the "cat" interaction, top MLP 432-512-256-1, plain SGD lr 0.1, batch 128;
- NextItNet as the lab trains it on the ML-1M sequences: item embeddings of 64, residual blocks
  of two causal dilated convs (kernel 3, dilations 1-2-4-8-1-2-4-8), each followed by LayerNorm
  and ReLU, full softmax over the 3,589 items, Adam lr 1e-3, batch 128 sequences of 20.

The ids are drawn uniformly within each field's cardinality (those of the Criteo slice as the lab
encodes it, --field-dims) and labels at random: training speed does not depend on the values.
Samples/s = batch / the median step time over --steps steps after --warmup, one thread per core
(--threads). Prints one JSON line per model. Needs PyTorch (Debian:
`apt-get install -y python3-torch libopenblas0-pthread`: without OpenBLAS, Debian's torch uses the
reference BLAS and trains DeepFM about 14x slower); `npm run bench` runs it when `import torch`
works.

    /usr/bin/python3 scripts/reference/torch_train_bench.py [--models fm,deepfm,widedeep,autoint,dlrm,nextitnet]
        [--steps 10] [--warmup 3] [--field-dims 1460,583,...] [--items 3589]
"""
import argparse
import json
import os
import statistics
import time

import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--models", default="fm,deepfm,widedeep,autoint,dlrm,nextitnet")
parser.add_argument("--steps", type=int, default=10)
parser.add_argument("--warmup", type=int, default=3)
parser.add_argument("--field-dims", default="")
parser.add_argument("--items", type=int, default=3589)
parser.add_argument("--threads", type=int, default=os.cpu_count())
args = parser.parse_args()
# Debian's build starts with one OpenMP thread: one per core, as the lab's wasm uses.
torch.set_num_threads(args.threads)

# The Criteo slice's fields as the lab encodes them (min count 10): a stand-in when not given.
field_dims = (
    [int(x) for x in args.field_dims.split(",")]
    if args.field_dims
    else [40, 80, 70, 40, 140, 70, 50, 50, 80, 10, 30, 40, 50]
    + [60, 220, 400, 300, 15, 10, 500, 25, 3, 550, 450, 500, 300, 20, 600, 400, 10, 450, 130]
    + [5, 500, 5, 14, 450, 30, 400]
)


class FmFamily(nn.Module):
    """FM / DeepFM / Wide&Deep / AutoInt over one embedding table with field offsets."""

    def __init__(self, kind, dims, d=24):
        super().__init__()
        self.kind = kind
        n = sum(dims)
        self.offsets = torch.tensor([0] + list(torch.cumsum(torch.tensor(dims), 0)[:-1]))
        self.linear = nn.Embedding(n, 1)
        self.bias = nn.Parameter(torch.zeros(1))
        self.table = nn.Embedding(n, d)
        nn.init.xavier_uniform_(self.table.weight)
        m = len(dims)
        self.attention = None
        if kind == "autoint":
            self.attention = nn.ModuleList(
                [nn.MultiheadAttention(64, 2, batch_first=True) for _ in range(3)]
            )
            self.projections = nn.ModuleList([nn.Linear(d if i == 0 else 64, 64) for i in range(3)])
            self.residual = nn.ModuleList([nn.Linear(d if i == 0 else 64, 64) for i in range(3)])
            self.attention_out = nn.Linear(m * 64, 1)
        self.mlp = None
        if kind != "fm":
            layers, width = [], m * d
            for hidden in (400, 400, 400):
                layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.2)]
                width = hidden
            layers.append(nn.Linear(width, 1))
            self.mlp = nn.Sequential(*layers)

    def forward(self, x):
        x = x + self.offsets
        xv = self.table(x)
        out = self.linear(x).sum(1).squeeze(1) + self.bias
        if self.kind in ("fm", "deepfm"):
            out = out + 0.5 * (xv.sum(1) ** 2 - (xv**2).sum(1)).sum(1)
        if self.attention is not None:
            h = xv
            for attn, proj, res in zip(self.attention, self.projections, self.residual):
                q = proj(h)
                a, _ = attn(q, q, q, need_weights=False)
                h = torch.relu(a + res(h))
            out = out + self.attention_out(h.reshape(len(x), -1)).squeeze(1)
        if self.mlp is not None:
            out = out + self.mlp(xv.reshape(len(x), -1)).squeeze(1)
        return out


def mlp(widths, last_plain=False):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if not (last_plain and i == len(widths) - 2):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Dlrm(nn.Module):
    def __init__(self, dims, d=16):
        super().__init__()
        self.tables = nn.ModuleList([nn.Embedding(n, d) for n in dims])
        self.bottom = mlp([13, 512, 256, 64, d])
        self.top = mlp([d + len(dims) * d, 512, 256, 1], last_plain=True)

    def forward(self, dense, ids):
        vectors = [self.bottom(dense)] + [t(ids[:, i]) for i, t in enumerate(self.tables)]
        return self.top(torch.cat(vectors, 1)).squeeze(1)


class NextItNet(nn.Module):
    def __init__(self, items, d=64, dilations=(1, 2, 4, 8, 1, 2, 4, 8)):
        super().__init__()
        self.embedding = nn.Embedding(items, d)
        self.dilations = dilations
        self.convs = nn.ModuleList([nn.Conv1d(d, d, 3, dilation=r) for r in dilations])
        self.norms = nn.ModuleList([nn.LayerNorm(d) for _ in dilations])
        self.out = nn.Linear(d, items)

    def forward(self, seq):
        h = self.embedding(seq)
        for c in range(0, len(self.dilations), 2):
            x = h
            for i in (c, c + 1):
                x = self.convs[i](nn.functional.pad(x.transpose(1, 2), (2 * self.dilations[i], 0)))
                x = torch.relu(self.norms[i](x.transpose(1, 2)))
            h = h + x
        return self.out(h)


def timed(step, steps, warmup):
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(name):
    torch.manual_seed(1)
    m = len(field_dims)
    if name == "dlrm":
        dims = field_dims[13:]
        model = Dlrm(dims)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        batch = 128
        dense = torch.rand(batch, 13)
        ids = torch.stack([torch.randint(0, n, (batch,)) for n in dims], 1)
        y = torch.randint(0, 2, (batch,)).float()
        loss_fn = nn.BCEWithLogitsLoss()

        def step():
            opt.zero_grad()
            loss_fn(model(dense, ids), y).backward()
            opt.step()

    elif name == "nextitnet":
        model = NextItNet(args.items)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        batch = 128
        seq = torch.randint(0, args.items, (batch, 20))
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            logits = model(seq[:, :-1])
            loss_fn(logits.reshape(-1, args.items), seq[:, 1:].reshape(-1)).backward()
            opt.step()

    else:
        model = FmFamily(name, field_dims)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
        batch = 1024
        ids = torch.stack([torch.randint(0, n, (batch,)) for n in field_dims], 1)
        y = torch.randint(0, 2, (batch,)).float()
        loss_fn = nn.BCEWithLogitsLoss()

        def step():
            opt.zero_grad()
            loss = loss_fn(model(ids), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 100)
            opt.step()

    model.train()
    seconds = timed(step, args.steps, args.warmup)
    return {
        "model": name,
        "batch": batch,
        "fields": m if name not in ("dlrm", "nextitnet") else None,
        "msPerStep": seconds * 1000,
        "samplesPerSec": batch / seconds,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cores": os.cpu_count(),
    }


for name in args.models.split(","):
    print(json.dumps(bench(name)), flush=True)
