#!/usr/bin/env python3
"""PyTorch peer for `hashlab bench retrieval --device cuda` (scripts/gpu-check.sh): the same workload, scored the way
GPU deep-hashing code usually does it: codes as ±1 floats, Hamming distances from one matrix product
d = (K − q·dbᵀ)/2, a stable sort by (distance, database index), AP@R over the top R.

Reads the workload hashlab wrote with --save-workload DIR (q_codes.npy / db_codes.npy: uint8 numpy.packbits rows,
q_labels.npy / db_labels.npy: int64 class ids); prints one JSON object: seconds (median of --reps after one warm-up,
transfers of the codes included, synchronised), map, and the mAP hashlab reported (--hashlab-map) for the check.
Usage: python3 tests/bench/retrieval_torch.py DIR --bits 64 --topk 1000 [--device cuda] [--reps 3] [--chunk 1024]
"""
import argparse
import json
import statistics
import time

import numpy as np
import torch


def unpack(path, bits):
    return np.unpackbits(np.load(path), axis=1)[:, :bits].astype(np.float32) * 2.0 - 1.0


def score(qc, dbc, ql, dbl, bits, topk, dev, chunk):
    q = torch.from_numpy(qc).to(dev)
    db = torch.from_numpy(dbc).to(dev)
    qlt = torch.from_numpy(ql).to(dev)
    dblt = torch.from_numpy(dbl).to(dev)
    n = db.shape[0]
    R = n if topk <= 0 or topk > n else topk
    idx = torch.arange(n, device=dev, dtype=torch.int64)
    ranks = torch.arange(1, R + 1, device=dev, dtype=torch.float64)
    total = torch.zeros((), dtype=torch.float64, device=dev)
    for i0 in range(0, q.shape[0], chunk):
        d = ((bits - q[i0:i0 + chunk] @ db.T) * 0.5).round().to(torch.int64)  # exact small integers
        key = d * n + idx  # stable: distance, then index
        top = torch.topk(key, R, dim=1, largest=False, sorted=True).values % n
        rel = (dblt[top] == qlt[i0:i0 + chunk, None]).to(torch.float64)
        hits = rel.cumsum(1)
        nrel = rel.sum(1)
        ap = (hits / ranks * rel).sum(1) / nrel.clamp(min=1)
        total += ap.sum()
    return float(total) / q.shape[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument("--topk", type=int, default=1000)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--hashlab-map", type=float, default=None)
    a = ap.parse_args()
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    qc, dbc = unpack(a.dir + "/q_codes.npy", a.bits), unpack(a.dir + "/db_codes.npy", a.bits)
    ql, dbl = np.load(a.dir + "/q_labels.npy"), np.load(a.dir + "/db_labels.npy")
    m = score(qc, dbc, ql, dbl, a.bits, a.topk, dev, a.chunk)  # warm-up
    sync()
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        m = score(qc, dbc, ql, dbl, a.bits, a.topk, dev, a.chunk)
        sync()
        times.append(time.perf_counter() - t0)
    out = {"peer": "pytorch %s (%s)" % (torch.__version__, a.device), "seconds": statistics.median(times), "map": m}
    if a.hashlab_map is not None:
        out["map_diff"] = abs(m - a.hashlab_map)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
