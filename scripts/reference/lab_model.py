#!/usr/bin/env python3
"""Reference reader for RecSys Compression Lab model files (docs/model-format.md), numpy only.

Checks a model file as the lab does and scores rows exactly as the lab's TypeScript scorer does:
raw delimited lines in the model's own layout, or rows of ids (`label,id_1,...,id_M`); float32
weights, float64 arithmetic.

    python3 scripts/reference/lab_model.py MODEL.json ROWS [--format auto|ids] [--out preds.csv]
    python3 scripts/reference/lab_model.py SEQ_MODEL.json SEQUENCES [--k 20] [--out next.csv]
      (a sequence model, NextItNet / CpRec: each line's last item is ranked after the ones before
       it, MRR / HR / NDCG at 5 and 20 are printed, and --out lists the top-k next items)
    (exit codes: 0 done, 2 bad input: an unreadable model or data file, no row that can be scored)

    from lab_model import load_model, score_line
    model = load_model("model.json")
    p = score_line(model, "1,4,17,0,3,9")
"""
import argparse
import base64
import binascii
import json
import math
import re
import struct
import sys
import time

import numpy as np

FORMAT, VERSION = "recsys-lab-model", 1
SEQ_FORMAT, SEQ_VERSION = "recsys-lab-sequence-model", 1
MAX_TENSOR, MAX_TOTAL, MAX_SAFE, PRIME = 2**28, 2**29, 2**53 - 1, 2147483647
MISSING = object()  # an absent key (JavaScript's undefined): refused wherever a value is required
EMPTY = -math.inf  # an empty numeric column
JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"\
    + "".join(map(chr, range(0x2000, 0x200B)))
DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\Z")
RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)\Z")
DTYPES = {"float32": "<f4", "uint8": "u1", "int32": "<i4"}


class ModelFileError(ValueError):
    """Not a model file this reader can use; the message names the first problem found."""


def need(ok, message):
    if not ok:
        raise ModelFileError(message)


# ---- the JavaScript arithmetic of the lab's tokenisation ------------------------------------------
def js_log(x):
    """Math.log(x) as V8 computes it (fdlibm's algorithm), bit for bit, for finite x >= 1."""
    lx, hx = struct.unpack("<Ii", struct.pack("<d", x))
    k, hx = (hx >> 20) - 1023, hx & 0xFFFFF
    i = (hx + 0x95F64) & 0x100000
    f = struct.unpack("<d", struct.pack("<II", lx, hx | (i ^ 0x3FF00000)))[0] - 1.0
    k += i >> 20
    dk, hi, lo = float(k), 6.93147180369123816490e-01, 1.90821492927058770002e-10
    if (0xFFFFF & (2 + hx)) < 3:
        if f == 0.0:
            return 0.0 if k == 0 else dk * hi + dk * lo
        r = f * f * (0.5 - 0.33333333333333333 * f)
        return f - r if k == 0 else dk * hi - ((r - dk * lo) - f)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (
        1.818357216161805012e-01 + w * 1.479819860511658591e-01))) + w * (
        3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
    if ((hx - 0x6147A) | (0x6B851 - hx)) > 0:
        h = 0.5 * f * f
        return f - (h - s * (h + r)) if k == 0 else dk * hi - ((h - (s * (h + r) + dk * lo)) - f)
    return f - s * (f - r) if k == 0 else dk * hi - ((s * (f - r) - dk * lo) - f)


def js_number(text):
    """Number(text): JavaScript white space trimmed, '' is 0, 0x / 0o / 0b radixes, else NaN."""
    s = text.strip(JS_SPACE)
    if RADIX.match(s):
        return float(int(s[2:], {"x": 16, "o": 8, "b": 2}[s[1].lower()]))
    return 0.0 if s == "" else float(s.replace("Infinity", "inf")) if DECIMAL.match(s) else math.nan


def parse_number(text):
    """A plain decimal (sign, digits, fraction, exponent), EMPTY for '', NaN for anything else."""
    if text == "":
        return EMPTY
    v = js_number(text) if all(c in "0123456789.+-eE" for c in text) else math.nan
    return v if math.isfinite(v) else math.nan


def parse_label(text):
    """0 or 1 for '0', '1', '0.0', '1.0', 'true', 'false' (any case); None for anything else."""
    if len(text) == 1:
        return {"0": 0, "1": 1}.get(text)
    v = parse_number(text)
    return int(v) if v in (0, 1) else {"true": 1, "false": 0}.get(text.lower())


def criteo_token(v):
    """floor(ln(x)^2) for x > 2, x - 2 otherwise (x = floor(v)), written as String() would."""
    x = float(math.floor(v))
    b = float(math.floor(js_log(x) ** 2)) if x > 2 else x - 2.0
    return str(int(b)) if abs(b) < 1e21 else repr(b)


def split_quoted(line, delim):
    """Fields of a line with double-quoted values ("" is a quote); None when a quote is not closed."""
    out, i = [], 0
    while True:
        if line.startswith('"', i):
            value, i = "", i + 1
            while True:
                q = line.find('"', i)
                if q < 0:
                    return None
                value, i = value + line[i:q], q + 1
                if not line.startswith('"', i):
                    break
                value, i = value + '"', i + 1
            if i < len(line) and not line.startswith(delim, i):
                return None
            out.append(value)
        else:
            stop = line.find(delim, i)
            stop = len(line) if stop < 0 else stop
            out.append(line[i:stop])
            i = stop
        if i >= len(line):
            return out
        i += len(delim)


# ---- checking the file: everything is checked before it is used or allocated ----------------------
def get(o, key):
    return o.get(key, MISSING) if isinstance(o, dict) else MISSING


def whole(v, p, lo=0, hi=MAX_SAFE):
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1.8e308
    need(ok and math.isfinite(v), f"{p} must be a finite number")
    need(v == math.floor(v) and lo <= v <= hi, f"{p} must be a whole number from {lo} to {hi}, got {v}")
    return int(v)


def at(o, path, key, kind, lo=0, hi=MAX_SAFE, null=False):
    """o[key] checked as kind: "int" (a whole number in lo..hi), dict, list, str, bool or float."""
    need(isinstance(o, dict), f"{path} must be an object")
    v, p = get(o, key), f"{path}.{key}" if path else key
    if null and v is None:
        return None
    if kind == "int":
        return whole(v, p, lo, hi)
    what = {dict: "an object", list: "an array", str: "a string", bool: "true or false", float: "a number"}
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) if kind is float else isinstance(v, kind)
    need(ok, f"{p} must be {what[kind]}")
    return v


def parse_json(raw):
    def constant(name):
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(raw, parse_constant=constant)
    except (ValueError, RecursionError) as err:
        raise ModelFileError(f"not JSON ({err}): a truncated or damaged file?") from None


def check_dataset(raw):
    ds, ncols, rows = at(raw, "", "dataset", dict), math.inf, []
    at(ds, "dataset", "name", str)
    inp = at(ds, "dataset", "input", dict)
    if get(inp, "kind") == "delimited":
        delimiter = at(inp, "dataset.input", "delimiter", str)
        need(len(delimiter) == 1, "dataset.input.delimiter must be one character")
        ncols = at(inp, "dataset.input", "numColumns", "int", 1, 100000)
        at(inp, "dataset.input", "labelColumn", "int", 0, ncols - 1)
        flags = isinstance(get(inp, "hasHeader"), bool) and isinstance(get(inp, "quoted"), bool)
        need(flags, "dataset.input.hasHeader and quoted must be true or false")
        header = at(inp, "dataset.input", "header", list, null=True) or []
        need(all(isinstance(h, str) for h in header), "dataset.input.header must hold strings")
    else:
        kind = get(inp, "kind")
        need(kind == "ids", f'dataset.input.kind must be "delimited" or "ids", got "{kind}"')
    for i, f in enumerate(at(ds, "dataset", "fields", list)):
        p, n = f"dataset.fields[{i}]", at(f, f"dataset.fields[{i}]", "rows", "int", 1)
        offset = at(f, p, "offset", "int")
        need(offset == sum(rows), f"{p}.offset must be {sum(rows)} (the fields' rows follow each other)")
        t = get(f, "transform")
        known = t in ("identity", "criteo-bucket", "derived", "id")
        need(known, f'{p}.transform "{t}" is not one this reader knows')
        tokens = at(f, p, "tokens", list, null=True) or []
        ok = len(tokens) <= n and all(isinstance(x, str) for x in tokens)
        need(ok, f"{p}.tokens must be {n} strings or fewer")
        at(f, p, "name", str), at(f, p, "minCount", "int", 1), at(f, p, "rareId", "int", 0, n - 1, null=True)
        at(f, p, "column", "int", 0, ncols - 1, null=True)
        rows.append(n)
    need(rows, "dataset.fields is empty")
    dense = at(ds, "dataset", "dense", dict, null=True)
    if dense is not None:
        cols = at(dense, "dataset.dense", "columns", list)
        names = at(dense, "dataset.dense", "names", list)
        need(len(names) == len(cols), "dataset.dense.names and columns differ in length")
        [whole(c, f"dataset.dense.columns[{i}]", 0, ncols - 1) for i, c in enumerate(cols)]
    return rows


def decode_tensors(raw):
    """Every tensor's dtype, shape and base64 length, then (nothing refused) their values."""
    out, total = {}, 0
    for name, t in at(raw, "", "tensors", dict).items():
        p = f"tensors.{name}"
        need(isinstance(t, dict), f"{p} must be an object")
        dtype = at(t, p, "dtype", str)
        need(dtype in DTYPES, f'{p}.dtype must be float32, uint8 or int32, got "{dtype}"')
        shape = [whole(d, f"{p}.shape[{i}]", 0, MAX_TENSOR) for i, d in enumerate(at(t, p, "shape", list))]
        need(len(shape) <= 4, f"{p} has {len(shape)} dimensions (at most 4)")
        size = math.prod(shape)
        need(size <= MAX_TENSOR, f"{p} declares {size} elements, more than the {MAX_TENSOR} allowed")
        total += size
        need(total <= MAX_TOTAL, f"the tensors declare more than {MAX_TOTAL} elements in all")
        data, chars = at(t, p, "data", str), 4 * math.ceil(size * (1 if dtype == "uint8" else 4) / 3)
        holds = f"{p}: its data holds {len(data)} base64 characters"
        need(len(data) == chars, f"{holds}, {chars} expected for {dtype} {shape}")
        out[name] = (dtype, shape, data)
    for name, (dtype, shape, data) in out.items():
        try:
            raw_bytes = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ModelFileError(f"tensors.{name} is not valid base64") from None
        values = np.frombuffer(raw_bytes, DTYPES[dtype]).reshape(shape)
        out[name] = (dtype, values if dtype == "uint8" else values.astype(np.float64))
    return out


# ---- the model: each reference is checked against its tensor's shape as it is resolved ------------
class Model:
    """A checked model file: `encoder(fmt).encode(line)` reads a row, `probabilities` scores ids."""

    def __init__(self, raw):
        need(isinstance(raw, dict), "not a model file: the JSON is not an object")
        found = json.dumps(raw.get("format"))
        need(raw.get("format") == FORMAT, f"not a RecSys Compression Lab model file (format: {found})")
        version = at(raw, "", "version", "int", 1)
        newer = f"written by a newer lab (format version {version})"
        need(version <= VERSION, f"{newer}; this reader knows version {VERSION}")
        at(raw, "", "createdAt", str)
        at(raw, "", "labVersion", str)
        self.file, self.field_rows, self.encoders = raw, check_dataset(raw), {}
        self.tensors = decode_tensors(raw)
        self.offsets = np.cumsum([0] + self.field_rows[:-1]).astype(np.int64)
        a = self.arch = at(raw, "", "architecture", dict)
        self.m = at(a, "architecture", "numFields", "int", 1)
        fields = len(self.field_rows)
        need(self.m == fields, f"architecture.numFields is {self.m}, the dataset has {fields} fields")
        self.d = at(a, "architecture", "embeddingDim", "int", 1, 4096)
        self.resolve_architecture(a, get(a, "model"), self.m * self.d)
        self.lookups = self.resolve_embedding(at(raw, "", "embedding", dict))
        at(raw, "", "compression", dict)
        at(raw, "", "metrics", dict)

    def tensor(self, ref, p, shape, dtype="float32"):
        need(isinstance(ref, str), f"{p} must be a string")
        need(ref in self.tensors, f'{p} names the tensor "{ref}", which the file does not hold')
        t_dtype, t = self.tensors[ref]
        need(t_dtype == dtype, f'{p}: tensor "{ref}" is {t_dtype}, {dtype} expected')
        ok = t.ndim == len(shape) and all(d is None or t.shape[i] == d for i, d in enumerate(shape))
        want = ["*" if d is None else d for d in shape]
        need(ok, f'{p}: tensor "{ref}" has shape {list(t.shape)}, expected {want}')
        return t

    def dense(self, ref, p, inputs, outputs=None, why=""):
        """A Linear [inputs, width] and its bias, as (weight, bias)."""
        need(isinstance(ref, dict), f"{p} must be an object")
        w = self.tensor(get(ref, "weight"), f"{p}.weight", [inputs, None])
        need(outputs is None or w.shape[1] == outputs, f"{p} must {why or f'have {outputs} outputs'}")
        return w, self.tensor(get(ref, "bias"), f"{p}.bias", [w.shape[1]])

    def mlp(self, ref, p, width):
        """[Linear -> BatchNorm (folded into y * scale + shift) -> ReLU] x n, then the output Linear."""
        hidden = []
        for i, layer in enumerate(at(ref, p, "hidden", list)):
            q = f"{p}.hidden[{i}]"
            w, b = self.dense(get(layer, "linear"), f"{q}.linear", width)
            width, norm, scale, shift = w.shape[1], at(layer, q, "norm", dict, null=True), None, None
            if norm is not None:
                keys = ("gamma", "beta", "runningMean", "runningVar")
                g, beta, mean, var = (self.tensor(get(norm, k), f"{q}.norm.{k}", [width]) for k in keys)
                scale = g / np.sqrt(var + at(norm, f"{q}.norm", "eps", float))
                shift = beta - mean * scale
            hidden.append((w, b, scale, shift))
        out = None if get(ref, "output") is None else self.dense(get(ref, "output"), f"{p}.output", width)
        need(out is not None and out[0].shape[1] == 1, f"{p} must end in one output (the logit)")
        return hidden, out

    def resolve_architecture(self, a, model, flat):
        d, arch = self.d, "architecture"
        if model in ("fm", "deepfm", "widedeep"):
            self.linear_w = self.tensor(get(a, "linear"), "architecture.linear", [sum(self.field_rows)])
            self.bias = self.tensor(get(a, "bias"), "architecture.bias", [1])[0]
            need(model != "fm" or get(a, "mlp") is None, "architecture.mlp must be null for FM")
            self.deep = None if model == "fm" else self.mlp(get(a, "mlp"), "architecture.mlp", flat)
        elif model == "autoint":
            e = at(a, arch, "attentionDim", "int", 1, 4096)
            heads = at(a, arch, "numHeads", "int", 1, e)
            need(e % heads == 0, f"architecture.attentionDim {e} is not divisible by numHeads {heads}")
            to_e = "project to attentionDim"
            self.heads = heads
            self.att = self.dense(get(a, "attentionEmbedding"), "architecture.attentionEmbedding", d, e, to_e)
            self.layers = []
            for i, layer in enumerate(at(a, arch, "layers", list)):
                p = f"architecture.layers[{i}]"
                qkv = self.dense(get(layer, "inProj"), f"{p}.inProj", e, 3 * e, "project to 3 x attentionDim")
                self.layers.append((qkv, self.dense(get(layer, "outProj"), f"{p}.outProj", e, e, to_e)))
            res = get(a, "residual")
            self.residual = None if res is None else self.dense(res, "architecture.residual", d, e, to_e)
            logit = "end in one output (the logit)"
            self.output = self.dense(get(a, "output"), "architecture.output", self.m * e, 1, logit)
            self.deep = None if get(a, "mlp") is None else self.mlp(get(a, "mlp"), "architecture.mlp", flat)
        elif model == "dlrm":
            width = self.num_dense = at(a, arch, "numDense", "int", 0, 4096)
            self.bottom, self.top = [], []
            for i, layer in enumerate(at(a, arch, "bottom", list)):
                self.bottom.append(self.dense(layer, f"architecture.bottom[{i}]", width))
                width = self.bottom[-1][0].shape[1]
            need(self.num_dense == 0 or width == d, "architecture.bottom must end at embeddingDim")
            width = (d if self.num_dense > 0 else 0) + flat
            for i, layer in enumerate(at(a, arch, "top", list)):
                self.top.append(self.dense(layer, f"architecture.top[{i}]", width))
                width = self.top[-1][0].shape[1]
            need(width == 1 and self.top, f"architecture.top must end in one output (the logit), not {width}")
        else:
            need(False, f'architecture.model "{model}" is not a model this reader knows')
        self.model = model

    def resolve_embedding(self, e):
        """Per field, a function from its ids [B] to its vectors [B, d], read as the embedding stores them."""
        d, kind, rows, offsets = self.d, get(e, "kind"), self.field_rows, self.offsets
        dim = at(e, "embedding", "dim", "int", 1, 4096)
        need(dim == d, f"embedding.dim is {dim}, the architecture's embeddingDim is {d}")
        per_field = kind in ("hashed", "qr", "mixed-dim")
        fields = at(e, "embedding", "fields", list) if per_field else []
        has = f"embedding.fields has {len(fields)} entries"
        need(not per_field or len(fields) == self.m, f"{has}, one per field ({self.m}) expected")
        paths = [f"embedding.fields[{i}]" for i in range(len(fields))]
        if kind == "dense":
            table = self.tensor(get(e, "table"), "embedding.table", [sum(rows), d])
            return [lambda i, o=o: table[o + i] for o in offsets]
        if kind == "pruned":  # bit k of row i (LSB first) says entry (i, k) is stored; values row by row
            masks = self.tensor(get(e, "masks"), "embedding.masks", [sum(rows), (d + 7) // 8], "uint8")
            values = self.tensor(get(e, "values"), "embedding.values", [None])
            bits = np.unpackbits(masks, axis=1, bitorder="little")
            marked = int(bits.sum())
            need(marked == len(values), f"embedding.values holds {len(values)} entries, the masks mark {marked}")
            spare = [*np.flatnonzero(bits[:, d:].any(axis=1))[:1], None][0]
            need(spare is None, f"embedding.masks row {spare} marks entries past dim {d}")
            table = np.zeros((sum(rows), d))
            table[bits[:, :d] == 1] = values
            return [lambda i, o=o: table[o + i] for o in offsets]
        if kind == "hashed":  # row offset + ((a * i + b) mod (2^31 - 1)) mod buckets
            table = self.tensor(get(e, "table"), "embedding.table", [None, d])
            out = []
            for p, f in zip(paths, fields):
                a, b = at(f, p, "a", "int", 1, PRIME - 1), at(f, p, "b", "int", 0, PRIME - 1)
                k, off = at(f, p, "buckets", "int", 1), at(f, p, "offset", "int")
                need(off + k <= len(table), f"{p}: rows {off}..{off + k - 1} are outside the table")
                out.append(lambda i, a=a, b=b, k=k, off=off: table[off + (a * (i % PRIME) + b) % PRIME % k])
            return out
        if kind == "qr":  # compressed: Q[qOffset + i / c] (* or +) R[rOffset + i mod c], rounded to float32
            q = self.tensor(get(e, "quotient"), "embedding.quotient", [None, d])
            r = self.tensor(get(e, "remainder"), "embedding.remainder", [None, d])
            c, op = at(e, "embedding", "collisions", "int", 2), get(e, "operation")
            need(op in ("mult", "add"), "embedding.operation must be mult or add")
            out = []
            for p, f, n in zip(paths, fields, rows):
                qo, packed = at(f, p, "qOffset", "int"), at(f, p, "compressed", bool)
                need(qo + (-(-n // c) if packed else n) <= len(q), f"{p}: quotient rows beyond the table")
                ro = at(f, p, "rOffset", "int") if packed else 0
                need(ro + c <= len(r) or not packed, f"{p}: remainder rows beyond the table")
                if not packed:
                    out.append(lambda i, qo=qo: q[qo + i])
                elif op == "mult":
                    out.append(lambda i, qo=qo, ro=ro: (q[qo + i // c] * r[ro + i % c]).astype(np.float32))
                else:
                    out.append(lambda i, qo=qo, ro=ro: (q[qo + i // c] + r[ro + i % c]).astype(np.float32))
            return out
        if kind == "mixed-dim":  # the field's rows of width d_f, projected to d when d_f < d
            out = []
            for p, f, n in zip(paths, fields, rows):
                t = self.tensor(get(f, "table"), f"{p}.table", [n, None])
                need(1 <= t.shape[1] <= d, f"{p}: width {t.shape[1]} is outside 1..{d}")
                if t.shape[1] == d:
                    need(get(f, "projection") is None, f"{p}: a field of full width has no projection")
                    out.append(lambda i, t=t: t[i])
                else:
                    w = self.tensor(get(f, "projection"), f"{p}.projection", [t.shape[1], d])
                    out.append(lambda i, t=t, w=w: t[i] @ w)
            return out
        need(False, f'embedding.kind "{kind}" is not an encoding this reader knows')

    @staticmethod
    def run_mlp(mlp, x):
        for w, b, scale, shift in mlp[0]:
            x = x @ w + b
            x = np.maximum(x if scale is None else x * scale + shift, 0.0)
        return (x @ mlp[1][0] + mlp[1][1])[:, 0]

    def logits(self, ids, dense=None):
        ids = np.asarray(ids, dtype=np.int64).reshape(-1, self.m)
        b = ids.shape[0]
        emb = np.stack([look(ids[:, f]) for f, look in enumerate(self.lookups)], axis=1)  # [B, M, d]
        flat = emb.reshape(b, -1)
        if self.model in ("fm", "deepfm", "widedeep"):
            logit = self.bias + self.linear_w[self.offsets + ids].sum(axis=1)
            if self.model != "widedeep":  # 0.5 * sum_k [(sum_f v_fk)^2 - sum_f v_fk^2]
                logit = logit + 0.5 * (emb.sum(axis=1) ** 2 - (emb**2).sum(axis=1)).sum(axis=1)
            return logit if self.deep is None else logit + self.run_mlp(self.deep, flat)
        if self.model == "autoint":  # self-attention over the fields: packed q | k | v, per head
            x, e = emb @ self.att[0] + self.att[1], self.att[0].shape[1]
            hd = e // self.heads
            for (wi, bi), (wo, bo) in self.layers:
                qkv = (x @ wi + bi).reshape(b, self.m, 3, self.heads, hd)
                s = np.einsum("bihk,bjhk->bhij", qkv[:, :, 0] * (1 / math.sqrt(hd)), qkv[:, :, 1])
                p = np.exp(s - s.max(axis=3, keepdims=True))
                ctx = np.einsum("bhij,bjhk->bihk", p / p.sum(axis=3, keepdims=True), qkv[:, :, 2])
                x = ctx.reshape(b, self.m, e) @ wo + bo
            if self.residual is not None:
                x = x + emb @ self.residual[0] + self.residual[1]
            out = (np.maximum(x, 0.0).reshape(b, -1) @ self.output[0] + self.output[1])[:, 0]
            return out if self.deep is None else out + self.run_mlp(self.deep, flat)
        x = flat  # DLRM: top MLP(cat(bottom MLP(dense), e_1, ..., e_M)), ReLU after all but the logit
        if self.num_dense > 0:
            if dense is None or np.shape(dense)[-1:] != (self.num_dense,):
                raise ValueError(f"DLRM reads {self.num_dense} dense features per row")
            z = np.asarray(dense, dtype=np.float64).reshape(b, -1)
            for w, bias in self.bottom:
                z = np.maximum(z @ w + bias, 0.0)
            x = np.concatenate([z, flat], axis=1)
        for i, (w, bias) in enumerate(self.top):
            x = x @ w + bias if i == len(self.top) - 1 else np.maximum(x @ w + bias, 0.0)
        return x[:, 0]

    def probabilities(self, ids, dense=None):
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-self.logits(ids, dense)))

    def encoder(self, fmt="auto"):
        if fmt not in self.encoders:
            self.encoders[fmt] = RowEncoder(self.file["dataset"], ids=fmt == "ids")
        return self.encoders[fmt]


class RowEncoder:
    """A raw row -> (ids, dense or None, label or None) as the lab reads it, or a reason why not."""

    def __init__(self, dataset, ids=False):
        self.ds, self.fields = dataset, dataset["fields"]
        self.inp = {"kind": "ids"} if ids else dataset["input"]
        self.index = [None if f["tokens"] is None else {t: i for i, t in enumerate(f["tokens"])}
                      for f in self.fields]
        self.dense_cols, self.label_col, self.wants_header = [], 0, False
        if self.inp["kind"] == "delimited":
            bad = [f["name"] for f in self.fields if f["transform"] == "derived" or f["column"] is None]
            if bad:
                why = "is not a column of the raw rows (it was derived when loading): score rows of ids"
                raise ValueError(f"field {bad[0]} {why}")
            self.cols, self.label_col = [f["column"] for f in self.fields], self.inp["labelColumn"]
            self.dense_cols = list(dataset["dense"]["columns"]) if dataset["dense"] else []
            self.wants_header = self.inp["hasHeader"]

    def use_header(self, line):
        """A header line: the columns are then found by name (a file may order them differently)."""
        self.wants_header, header, delim = False, self.inp["header"], self.inp["delimiter"]
        if header is None:
            return
        named = {s.strip(JS_SPACE): i for i, s in enumerate(split_quoted(line, delim) or line.split(delim))}
        for c in [f["column"] for f in self.fields] + self.dense_cols:
            if header[c] not in named:
                raise ValueError(f'the header has no column "{header[c]}"')
        self.cols = [named[header[f["column"]]] for f in self.fields]
        self.dense_cols = [named[header[c]] for c in self.dense_cols]
        self.label_col = named.get(header[self.inp["labelColumn"]], -1)

    def id_of(self, f, s):
        """An id column: Number(s), a whole number from 0 to the field's rows - 1."""
        v, rows = js_number(s), self.fields[f]["rows"]
        ok = math.isfinite(v) and v == math.floor(v) and 0 <= v < rows
        return int(v) if ok else f'field {self.fields[f]["name"]}: id "{s}" is outside 0..{rows - 1}'

    def field_id(self, f, s):
        field = self.fields[f]
        if field["transform"] == "id":
            return self.id_of(f, s)
        if field["transform"] == "criteo-bucket":
            v = parse_number(s)
            if math.isnan(v):
                return f'field {field["name"]}: "{s}" is not a number'
            s = "NULL" if v == EMPTY else criteo_token(v)
        hit = None if self.index[f] is None else self.index[f].get(s)  # unseen: the rare id, or 0
        return hit if hit is not None else field["rareId"] or 0

    def encode(self, line):
        if self.inp["kind"] == "ids":
            parts = line.split(",")
            if len(parts) != len(self.fields) + 1:
                return f"expected a label and {len(self.fields)} ids, got {len(parts)} values"
            ids = [self.id_of(f, s) for f, s in enumerate(parts[1:])]
            bad = [x for x in ids if isinstance(x, str)]
            return bad[0] if bad else (ids, None, parse_label(parts[0]))
        d = self.inp["delimiter"]
        cols = split_quoted(line, d) if self.inp["quoted"] else line.split(d)
        if cols is None:
            return "a quoted value is not closed"
        if len(cols) < self.inp["numColumns"]:
            return f"{len(cols)} columns, {self.inp['numColumns']} expected"
        ids = [self.field_id(f, cols[c]) for f, c in enumerate(self.cols)]
        dense = [parse_number(cols[c]) for c in self.dense_cols]
        bad = [x for x in ids if isinstance(x, str)]
        bad += [f'dense column {c}: "{cols[c]}" is not a number'
                for c, v in zip(self.dense_cols, dense) if math.isnan(v)]
        if bad:
            return bad[0]
        # DLRM's dense inputs: log(x + 1) as float32; non-positive and empty values give 0
        dense = [0.0 if v <= 0 else float(np.float32(js_log(v + 1.0))) for v in dense]
        label = parse_label(cols[self.label_col]) if 0 <= self.label_col < len(cols) else None
        return ids, dense or None, label


def load_model(source):
    """A Model from a file path, or from the JSON text itself (bytes, or a str starting with '{')."""
    if isinstance(source, str) and not source.lstrip().startswith("{"):
        with open(source, "rb") as fh:
            source = fh.read()
    if isinstance(source, bytes):
        source = source.decode("utf-8", errors="replace")
    return Model(parse_json(source))


def score_line(model, line, fmt="auto"):
    """The probability of one row: a raw line in the model's layout, or `label,id_1,...,id_M`."""
    row = model.encoder(fmt).encode(line.rstrip("\r\n"))
    if isinstance(row, str):
        raise ValueError(row)
    return float(model.probabilities([row[0]], None if row[1] is None else [row[1]])[0])


def roc_auc(scores, labels):
    """Exact ROC AUC (Mann-Whitney; tied scores share their average rank); NaN with one class."""
    s, pos = np.asarray(scores, dtype=np.float64), np.asarray(labels) > 0.5
    order, n, n_pos = np.argsort(s, kind="stable"), len(s), int(pos.sum())
    if n_pos in (0, n):
        return math.nan
    starts = np.flatnonzero(np.r_[True, s[order][1:] != s[order][:-1]])
    ends = np.r_[starts[1:], n]
    ranks = np.repeat((starts + 1 + ends) / 2.0, ends - starts)
    return (ranks[pos[order]].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (n - n_pos))


def logloss(probs, labels):
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1 - 1e-7)
    return float(np.mean(np.where(np.asarray(labels) > 0.5, -np.log(p), -np.log(1 - p))))


# ---- sequence models (NextItNet, plain or compressed by CpRec) -----------------------------------
def kernel_assignment(n, sharing):
    """Distinct kernel of each conv (conv 2b + j is conv j of residual block b), as the lab numbers them."""
    rule = {"none": lambda c: c, "cross-layer": lambda c: 0, "cross-block": lambda c: c % 2,
            "adjacent-layer": lambda c: c // 2, "adjacent-block": lambda c: 2 * (c // 4) + c % 2}
    need(sharing in rule, f'architecture.sharing "{sharing}" is unknown')
    seen = {}
    return [seen.setdefault(rule[sharing](c), len(seen)) for c in range(n)]


class SequenceModel:
    """A checked sequence model file: `rank_of(history, target)` and `top_k(history, k)`."""

    def __init__(self, raw):
        need(raw.get("format") == SEQ_FORMAT, f'format must be "{SEQ_FORMAT}"')
        need(raw.get("version") == SEQ_VERSION, f"version {raw.get('version')} is not supported")
        a, ds = at(raw, "", "architecture", dict), at(raw, "", "dataset", dict)
        need(a.get("model") == "nextitnet", 'architecture.model must be "nextitnet"')
        self.d = whole(a.get("dim", MISSING), "architecture.dim", 1)
        self.dil = [whole(x, "architecture.dilations", 1) for x in at(a, "architecture", "dilations", list)]
        need(len(self.dil) > 0 and len(self.dil) % 2 == 0, "architecture.dilations must come in pairs")
        self.cuts = [whole(x, "architecture.cuts", 1) for x in at(a, "architecture", "cuts", list)]
        self.dims = [whole(x, "architecture.blockDims", 1) for x in at(a, "architecture", "blockDims", list)]
        need(len(self.cuts) == len(self.dims) and all(x < y for x, y in zip(self.cuts, self.cuts[1:])),
             "architecture.cuts must increase, one blockDims entry per block")
        self.kernel_of = kernel_assignment(len(self.dil), at(a, "architecture", "sharing", str))
        need(a.get("kernelOf") == self.kernel_of, "architecture.kernelOf does not match the sharing scheme")
        self.eps = float(a.get("layerNormEps", 1e-8))
        self.tokens = at(ds, "dataset", "itemTokens", list)
        need(len(self.tokens) == self.cuts[-1], f"dataset.itemTokens must list the {self.cuts[-1]} items")
        self.T = whole(ds.get("maxLen", MISSING), "dataset.maxLen", 2) - 1
        self.padding = set(ds.get("paddingTokens", ["-1"]))
        self.id_of = {t: i + 1 for i, t in enumerate(self.tokens)}
        w = {k: v for k, (_, v) in decode_tensors(raw).items()}
        d, K = self.d, len(self.cuts)

        def get(name, shape):
            need(name in w, f"tensor {name} is missing")
            need(list(w[name].shape) == shape, f"tensor {name} has shape {list(w[name].shape)}, expected {shape}")
            return w[name]

        rows = [np.zeros((1, d))]
        for k in range(K):
            size = self.cuts[k] - (self.cuts[k - 1] if k else 0)
            e = get(f"input.E{k}", [size, self.dims[k]])
            rows.append(e if k == 0 else e @ get(f"input.P{k}", [self.dims[k], d]))
        self.inputs = np.concatenate(rows)
        n_kernels = max(self.kernel_of) + 1
        self.W = [get(f"conv.W{j}", [3 * d, d]) for j in range(n_kernels)]
        self.b = [get(f"conv.b{j}", [d]) for j in range(n_kernels)]
        self.g = [get(f"ln.gamma{c}", [d]) for c in range(len(self.dil))]
        self.beta = [get(f"ln.beta{c}", [d]) for c in range(len(self.dil))]
        self.H = get("softmax.H", [d, self.cuts[0] + K - 1])
        self.Hb = get("softmax.b", [self.cuts[0]]) if K == 1 else 0.0  # the block-wise head has no bias
        self.Q = [get(f"softmax.Q{k}", [d, self.dims[k]]) for k in range(1, K)]
        self.F = [get(f"softmax.F{k}", [self.dims[k], self.cuts[k] - self.cuts[k - 1]]) for k in range(1, K)]

    def parse_line(self, line):
        """Item ids of a comma-separated line (padding and empty tokens dropped) and the unknown count."""
        toks = [t.strip() for t in line.split(",")]
        toks = [t for t in toks if t and t not in self.padding]
        ids = [self.id_of[t] for t in toks if t in self.id_of]
        return ids, len(toks) - len(ids)

    def last_hidden(self, history):
        d, T = self.d, self.T
        x = np.zeros((T, d))
        recent = history[-T:]
        if recent:
            x[T - len(recent):] = self.inputs[recent]
        for c0 in range(0, len(self.dil), 2):
            h = x
            for c in (c0, c0 + 1):
                r, j = self.dil[c], self.kernel_of[c]
                pad = np.vstack([np.zeros((2 * r, d)), h])
                taps = np.hstack([pad[0:T], pad[r:r + T], pad[2 * r:2 * r + T]])
                y = taps @ self.W[j] + self.b[j]
                y = (y - y.mean(1, keepdims=True)) / np.sqrt(y.var(1, keepdims=True) + self.eps)
                h = np.maximum(0, y * self.g[c] + self.beta[c])
            x = x + h
        return x[-1]

    def log_probs(self, history):
        """Log-probabilities of items 1..V (index i = item i + 1) under the full distribution."""
        def log_softmax(v):
            m = v.max()
            return v - (m + np.log(np.exp(v - m).sum()))
        h, c1 = self.last_hidden(history), self.cuts[0]
        head = log_softmax(h @ self.H + self.Hb)
        parts = [head[:c1]] + [log_softmax((h @ q) @ f) + head[c1 + k]
                               for k, (q, f) in enumerate(zip(self.Q, self.F))]
        return np.concatenate(parts)

    def rank_of(self, history, target):
        lp = self.log_probs(history)
        return int((lp > lp[target - 1]).sum())

    def top_k(self, history, k):
        lp = self.log_probs(history)
        order = sorted(range(len(lp)), key=lambda i: (-lp[i], i))[:k]
        return [i + 1 for i in order]


def score_sequences(raw, args):
    try:
        model = SequenceModel(raw)
    except ValueError as err:
        bail(f"{args.model}: {err}")
    sums, n, scored, unknown, out, started = np.zeros(6), 0, 0, 0, [], time.perf_counter()
    try:
        with open(args.rows, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                ids, unk = model.parse_line(line.rstrip("\n"))
                unknown += unk
                if not ids:
                    continue
                scored += 1
                if len(ids) >= 2:
                    r, n = model.rank_of(ids[:-1], ids[-1]), n + 1
                    if r < 20:
                        sums += [1 / (r + 1) * (r < 5), 1 / (r + 1), r < 5, 1, 1 / math.log2(r + 2) * (r < 5),
                                 1 / math.log2(r + 2)]
                if args.out:
                    out.append(f"{number}," + " ".join(model.tokens[i - 1] for i in model.top_k(ids, args.k)))
    except OSError as err:
        bail(f"{args.rows}: {err}")
    if scored == 0:
        bail(f"{args.rows}: no line holds an item this model knows")
    print(f"scored {scored} sequences in {time.perf_counter() - started:.2f} s")
    if unknown:
        print(f"skipped {unknown} tokens the model does not know")
    if n:
        m = sums / n
        print(f"last item ranked over all {model.cuts[-1]} items ({n} sequences): MRR@5 {m[0]:.4f} MRR@20 {m[1]:.4f} "
              f"HR@5 {m[2]:.4f} HR@20 {m[3]:.4f} NDCG@5 {m[4]:.4f} NDCG@20 {m[5]:.4f}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("line,next_items\n" + "".join(o + "\n" for o in out))


def bail(message):
    print(message, file=sys.stderr)
    sys.exit(2)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Score rows with a RecSys Compression Lab model file.")
    ap.add_argument("model")
    ap.add_argument("rows")
    ap.add_argument("--format", choices=("auto", "ids"), default="auto", help="ids: label,id_1,...,id_M rows")
    ap.add_argument("--out", help="write row,probability[,label] for every scored row (sequence models: the top-k next items)")
    ap.add_argument("--k", type=int, default=20, help="sequence models: next items listed per line in --out")
    args = ap.parse_args(argv)
    try:
        with open(args.model, "rb") as fh:
            text = fh.read().decode("utf-8", errors="replace")
        raw = parse_json(text)
    except (OSError, ValueError) as err:
        bail(f"{args.model}: {err}")
    if isinstance(raw, dict) and raw.get("format") == SEQ_FORMAT:
        score_sequences(raw, args)
        return
    try:
        model = load_model(args.model)
        enc = model.encoder(args.format)
    except (OSError, ValueError) as err:
        bail(f"{args.model}: {err}")
    rows, probs, skipped, started = [], [], {}, time.perf_counter()
    try:
        with open(args.rows, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                line = line.rstrip("\n")
                if line.strip(JS_SPACE) == "":
                    continue
                if enc.wants_header:
                    enc.use_header(line)
                    continue
                row = enc.encode(line)
                if isinstance(row, str):
                    skipped.setdefault(row, [0, number])[0] += 1
                else:
                    rows.append(row)
        for k in range(0, len(rows), 4096):
            batch = rows[k : k + 4096]
            dense = None if batch[0][1] is None else [r[1] for r in batch]
            probs.extend(model.probabilities([r[0] for r in batch], dense).tolist())
    except (OSError, ValueError) as err:
        bail(f"{args.rows}: {err}")
    seconds = time.perf_counter() - started
    if not rows:
        why = "; ".join(f"{c} x {r} (first at line {first})" for r, (c, first) in skipped.items())
        bail(f"{args.rows}: no row could be scored" + (f": {why}" if why else ""))
    print(f"scored {len(rows)} rows in {seconds:.2f} s ({len(rows) / max(seconds, 1e-9):,.0f} rows/s)")
    for reason, (count, first) in skipped.items():
        print(f"skipped {count} rows: {reason} (first at line {first})")
    have = [i for i, r in enumerate(rows) if r[2] is not None]
    if have:
        p, y = [probs[i] for i in have], [rows[i][2] for i in have]
        auc = roc_auc(p, y)
        auc = "NaN" if math.isnan(auc) else f"{auc:.6f}"
        print(f"AUC {auc}, logloss {logloss(p, y):.6f} ({len(have)} labelled rows)")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write("row,probability" + (",label" if have else "") + "\n")
            for i, (p, r) in enumerate(zip(probs, rows)):
                out.write(f"{i},{p!r}" + ("" if r[2] is None else f",{r[2]}") + "\n")


if __name__ == "__main__":
    main()
