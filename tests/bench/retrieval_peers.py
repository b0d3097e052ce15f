#!/usr/bin/env python3
"""Peers for `hashlab bench retrieval` (docs/bench.md), on the identical workload, in the same run.

1. `hashlab bench retrieval --json --save-workload DIR` times hashlab (mAP@R + P@H<=2, packing included) and the floor
   (one XOR+popcount per pair) and writes the workload: q_codes.npy / db_codes.npy (uint8, numpy.packbits order) and
   q_labels.npy / db_labels.npy (int64 class ids).
2. FAISS IndexBinaryFlat: top-R search alone (no AP), `faiss.omp_set_num_threads(T)`.
3. numpy: the per-query loop of the usual DeepHash code (Hamming distances by a popcount table, stable argsort,
   AP@R), on the first --numpy-queries queries (it is slow), time extrapolated to all queries; its mAP is checked
   against `hashlab bench retrieval --queries <that many>` (the generator is keyed per item, so those queries and
   the database are identical) to 1e-9.
hashlab and FAISS run alternately --rounds times; medians are reported. Prints one JSON object (and a summary on
stderr). Usage: /usr/bin/python3 tests/bench/retrieval_peers.py --hashlab build/hashlab --threads 2
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def run_hashlab(args, queries, save=None):
    cmd = [args.hashlab, "bench", "retrieval", "--json", "--threads", str(args.threads), "--queries", str(queries),
           "--database", str(args.database), "--bits", str(args.bits), "--topk", str(args.topk),
           "--reps", str(args.reps)]
    if save:
        cmd += ["--save-workload", save]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def faiss_search(q, db, bits, topk, threads):
    import faiss
    faiss.omp_set_num_threads(threads)
    index = faiss.IndexBinaryFlat(bits)
    index.add(db)
    t0 = time.perf_counter()
    dist, idx = index.search(q, topk)
    return time.perf_counter() - t0, dist, idx


POPCOUNT8 = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1).astype(np.int32)


def numpy_map(q, db, ql, dbl, topk):
    """mAP@R, stable ties (np.argsort kind='stable' keeps database order within a distance), zero-relevant as 0."""
    aps = []
    for i in range(q.shape[0]):
        d = POPCOUNT8[np.bitwise_xor(db, q[i])].sum(axis=1)
        order = np.argsort(d, kind="stable")[:topk]
        rel = (dbl[order] == ql[i]).astype(np.float64)
        n = rel.sum()
        if n == 0:
            aps.append(0.0)
            continue
        pos = np.arange(1, rel.size + 1, dtype=np.float64)
        aps.append(float((np.cumsum(rel) / pos * rel).sum() / n))
    return float(np.mean(aps))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hashlab", default="build/hashlab")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--queries", type=int, default=10000)
    ap.add_argument("--database", type=int, default=50000)
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument("--topk", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3, help="hashlab's timed repetitions per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--numpy-queries", type=int, default=300)
    args = ap.parse_args()
    if args.bits % 8:
        sys.exit("FAISS IndexBinaryFlat needs --bits to be a multiple of 8")

    with tempfile.TemporaryDirectory() as tmp:
        hl = [run_hashlab(args, args.queries, save=tmp)]
        q, db = np.load(os.path.join(tmp, "q_codes.npy")), np.load(os.path.join(tmp, "db_codes.npy"))
        ql, dbl = np.load(os.path.join(tmp, "q_labels.npy")), np.load(os.path.join(tmp, "db_labels.npy"))
    assert q.shape == (args.queries, args.bits // 8) and db.shape == (args.database, args.bits // 8)

    fs = []
    for r in range(args.rounds):
        t, dist, _ = faiss_search(q, db, args.bits, args.topk, args.threads)
        fs.append(t)
        if r + 1 < args.rounds:
            hl.append(run_hashlab(args, args.queries))

    nq = min(args.numpy_queries, args.queries)
    t0 = time.perf_counter()
    np_map = numpy_map(q[:nq], db, ql[:nq], dbl, args.topk)
    np_t = time.perf_counter() - t0
    hl_sub = run_hashlab(args, nq)
    # FAISS returns the same top-R distances as the exact ranking (sanity for the workload and the search).
    d0 = np.sort(POPCOUNT8[np.bitwise_xor(db, q[0])].sum(axis=1))[: args.topk]
    faiss_ok = bool(np.array_equal(np.sort(dist[0]), d0))

    hs = statistics.median(r["seconds"] for r in hl)
    fl = statistics.median(r["floor_seconds"] for r in hl)
    fa = statistics.median(fs)
    npx = np_t * args.queries / nq
    res = {
        "queries": args.queries, "database": args.database, "bits": args.bits, "topk": args.topk,
        "threads": args.threads, "hashlab_seconds": hs, "floor_seconds": fl, "faiss_seconds": fa,
        "numpy_seconds_extrapolated": npx, "numpy_queries": nq, "numpy_seconds_measured": np_t,
        "faiss_over_hashlab": fa / hs, "hashlab_over_floor": hs / fl, "numpy_over_hashlab": npx / hs,
        "map": hl[0]["map"], "map_subset_hashlab": hl_sub["map"], "map_subset_numpy": np_map,
        "map_agrees": abs(hl_sub["map"] - np_map) < 1e-9, "faiss_distances_agree": faiss_ok,
        "hashlab_rounds": [r["seconds"] for r in hl], "floor_rounds": [r["floor_seconds"] for r in hl],
        "faiss_rounds": fs,
    }
    print(json.dumps(res))
    print(f"hashlab {hs:.3f} s | floor {fl:.3f} s (hashlab/floor {hs / fl:.2f}x) | FAISS top-{args.topk} "
          f"{fa:.3f} s (FAISS/hashlab {fa / hs:.1f}x) | numpy {npx:.1f} s extrapolated from {nq} queries "
          f"(numpy/hashlab {npx / hs:.0f}x) | mAP subset hashlab {hl_sub['map']:.12f} numpy {np_map:.12f}",
          file=sys.stderr)
    return 0 if res["map_agrees"] and faiss_ok else 1


if __name__ == "__main__":
    sys.exit(main())
