#!/usr/bin/env python3
"""Compares two run directories of the same suite cell by cell (scripts/gpu-check.sh: a device run against the CPU).

For every cell of A that B also has (cell keys do not contain the device): every numeric metric of result.json
(timings left out) and, where both have them, the query / database / adversarial codes (.npy, int8 ±1) as the fraction
of equal bits. Prints a table (one row per metric name: the largest |difference| over the cells, with the cell) and
exits 1 when a difference exceeds --tol-map (for mAP-like metrics: names starting with mAP, P@, R@, t-mAP) or a code
agreement falls below --min-agreement, or when a cell is missing or failed on either side.
With --exact: metrics must be equal and codes identical (the shadow device against the CPU).
--tol NAME=X sets one metric's tolerance (e.g. --tol 'mAP@1000(clean)=0.002'); --min-agreement 0 reports code
agreement without requiring any (two trainings that round differently end with codes that differ bit by bit: on the
CPU, another BLAS kernel or thread count leaves about 80% of the bits equal for the same mAP).
Usage: compare_runs.py A B [--tol-map 0.02] [--tol NAME=X]... [--min-agreement 0.97] [--exact] [--label-a cpu ...]
"""
import argparse
import glob
import json
import os
import sys

import numpy as np

TIMINGS = {"seconds_per_query"}


def cells(run):
    out = {}
    for f in glob.glob(os.path.join(run, "cells", "*", "result.json")):
        with open(f) as fh:
            r = json.load(fh)
        out[os.path.basename(os.path.dirname(f))] = r
    return out


def scored(name):
    return name.startswith(("mAP", "P@", "R@", "t-mAP", "tmAP", "TSR"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tol-map", type=float, default=0.02)
    ap.add_argument("--min-agreement", type=float, default=0.97)
    ap.add_argument("--tol", action="append", default=[])
    ap.add_argument("--exact", action="store_true")
    ap.add_argument("--label-a", default="A")
    ap.add_argument("--label-b", default="B")
    a = ap.parse_args()
    tols = {}
    for t in a.tol:
        name, _, x = t.rpartition("=")
        tols[name] = float(x)
    ca, cb = cells(a.a), cells(a.b)
    bad = []
    if not ca:
        bad.append("no cells in %s" % a.a)
    worst = {}  # metric -> (diff, label)
    agree = {}  # codes file -> (min agreement, label)
    for key, ra in sorted(ca.items()):
        rb = cb.get(key)
        label = ra.get("label", key[:12])
        if rb is None:
            bad.append("%s: missing in %s" % (label, a.label_b))
            continue
        if ra.get("status") != "done" or rb.get("status") != "done":
            bad.append("%s: status %s / %s" % (label, ra.get("status"), rb.get("status")))
            continue
        ma, mb = ra.get("metrics", {}), rb.get("metrics", {})
        for name, va in ma.items():
            vb = mb.get(name)
            if name in TIMINGS or not isinstance(va, (int, float)) or not isinstance(vb, (int, float)):
                continue
            d = abs(float(va) - float(vb))
            if name not in worst or d > worst[name][0]:
                worst[name] = (d, label)
            tol = tols.get(name, a.tol_map if scored(name) else None)
            if (a.exact and va != vb) or (not a.exact and tol is not None and d > tol):
                bad.append("%s: %s %s %.6g, %s %.6g" % (label, name, a.label_a, va, a.label_b, vb))
        for f in ("query_codes.npy", "db_codes.npy", "adv_codes.npy"):
            fa, fb = os.path.join(a.a, "cells", key, f), os.path.join(a.b, "cells", key, f)
            if not (os.path.exists(fa) and os.path.exists(fb)):
                continue
            x, y = np.load(fa), np.load(fb)
            g = float(np.mean(x == y)) if x.shape == y.shape else 0.0
            if f not in agree or g < agree[f][0]:
                agree[f] = (g, label)
            if (a.exact and g < 1.0) or g < a.min_agreement:
                bad.append("%s: %s agree on %.4f of the bits" % (label, f, g))
    print("| metric | max abs difference (%s vs %s) | cell |" % (a.label_a, a.label_b))
    print("| --- | --- | --- |")
    for name in sorted(worst):
        d, label = worst[name]
        print("| %s | %.3g | %s |" % (name, d, label))
    for f in sorted(agree):
        g, label = agree[f]
        print("| %s | %.4f of the bits equal (lowest) | %s |" % (f, g, label))
    print("cells compared: %d; %s" % (len(ca), "OK" if not bad else "%d problem(s)" % len(bad)))
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
