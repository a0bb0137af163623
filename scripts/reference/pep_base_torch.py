#!/usr/bin/env python3
"""PyTorch reference for the lab's FM / DeepFM cross-check on the PEP anchors split.

An independent re-implementation of the official PEP base-model training (torchfm-style FM and
DeepFM: N(0,1) linear table + zero bias, xavier-uniform embedding table of d=24, MLP 400-400-400
with BatchNorm, ReLU and dropout 0.2; Adam lr 1e-3 with weight_decay 1e-5 on every parameter,
batch 1024, gradient norm clipped at 100, shuffled batches), on the exact encoding and split in
../shared/data/anchors. It runs several seeds so that the lab's multi-seed means
(`npm run crosscheck:pep`) have a PyTorch mean to compare with, including the validation AUC the
single-seed reference figures in the data README do not give.

Not part of the test command. Needs PyTorch (Debian: `apt-get install -y python3-torch`, then run
with /usr/bin/python3):

    /usr/bin/python3 scripts/reference/pep_base_torch.py --model=fm --epochs=60 --seeds=1,2,3
"""
import argparse
import csv
import json
import os
import statistics
import time

import numpy as np
import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--model", choices=["fm", "deepfm"], default="fm")
parser.add_argument("--epochs", type=int, default=60)
parser.add_argument("--seeds", default="1,2,3")
parser.add_argument(
    "--data", default=os.environ.get("RECSYS_DATA_DIR", os.path.join("..", "shared", "data"))
)
args = parser.parse_args()
torch.set_num_threads(2)

anchors = os.path.join(args.data, "anchors")
meta = json.load(open(os.path.join(anchors, "criteo10k_split_seed42.json")))
field_dims = meta["field_dims"]
offsets = np.concatenate([[0], np.cumsum(field_dims)[:-1]])
num_features = int(sum(field_dims))
num_fields = len(field_dims)

parts = {"train": ([], []), "valid": ([], []), "test": ([], [])}
with open(os.path.join(anchors, "criteo10k_encoded_seed42split.csv")) as f:
    reader = csv.reader(f)
    next(reader)
    for row in reader:
        ids, labels = parts[row[1]]
        ids.append([int(x) for x in row[3:]])
        labels.append(float(row[2]))


def tensors(name):
    ids, labels = parts[name]
    return (
        torch.tensor(np.array(ids) + offsets, dtype=torch.long),
        torch.tensor(labels, dtype=torch.float32),
    )


x_train, y_train = tensors("train")
x_valid, y_valid = tensors("valid")
x_test, y_test = tensors("test")


def roc_auc(scores, labels):
    """Exact AUC with tied scores given their average rank."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores))
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels.sum()
    neg = len(labels) - pos
    return (ranks[labels == 1].sum() - pos * (pos + 1) / 2) / (pos * neg)


class Model(nn.Module):
    def __init__(self, deep, dim=24):
        super().__init__()
        self.linear = nn.Embedding(num_features, 1)  # torch's default N(0, 1), as torchfm
        self.bias = nn.Parameter(torch.zeros(1))
        self.table = nn.Parameter(torch.empty(num_features, dim))
        nn.init.xavier_uniform_(self.table)
        self.mlp = None
        if deep:
            layers, width = [], num_fields * dim
            for hidden in (400, 400, 400):
                layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.2)]
                width = hidden
            layers.append(nn.Linear(width, 1))
            self.mlp = nn.Sequential(*layers)

    def forward(self, x):
        xv = self.table[x]
        out = self.linear(x).sum(1).squeeze(1) + self.bias
        out = out + 0.5 * (xv.sum(1) ** 2 - (xv**2).sum(1)).sum(1)
        if self.mlp is not None:
            out = out + self.mlp(xv.reshape(len(x), -1)).squeeze(1)
        return out


def run(seed):
    torch.manual_seed(seed)
    model = Model(args.model == "deepfm")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    loss_fn = nn.BCEWithLogitsLoss()
    valid_auc, test_auc = [], []
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(len(x_train))
        for start in range(0, len(order), 1024):
            batch = order[start : start + 1024]
            optimizer.zero_grad()
            loss_fn(model(x_train[batch]), y_train[batch]).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 100)
            optimizer.step()
        model.eval()
        with torch.no_grad():
            valid_auc.append(roc_auc(model(x_valid).numpy(), y_valid.numpy()))
            test_auc.append(roc_auc(model(x_test).numpy(), y_test.numpy()))
    best = int(np.argmax(valid_auc))
    return {
        "seed": seed,
        "bestValAuc": valid_auc[best],
        "bestValEpoch": best + 1,
        "selectedTestAuc": test_auc[best],
        "bestTestAuc": max(test_auc),
        "bestTestEpoch": int(np.argmax(test_auc)) + 1,
        "testAucAfter10": test_auc[9] if len(test_auc) >= 10 else None,
    }


results = []
for seed in [int(s) for s in args.seeds.split(",")]:
    started = time.time()
    result = run(seed)
    result["seconds"] = round(time.time() - started, 1)
    print(json.dumps(result), flush=True)
    results.append(result)


def mean_sd(key):
    values = [r[key] for r in results if r[key] is not None]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


print(
    f"PyTorch {torch.__version__}, {args.model}, {args.epochs} epochs, seeds {args.seeds}: "
    f"best val AUC {mean_sd('bestValAuc')}; test AUC val-selected {mean_sd('selectedTestAuc')}; "
    f"best test AUC {mean_sd('bestTestAuc')}; test AUC after 10 epochs {mean_sd('testAucAfter10')}"
)
