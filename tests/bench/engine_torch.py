#!/usr/bin/env python3
"""PyTorch peer for `hashlab bench engine` (docs/bench.md): the same ref-cnn, batch 64, float32, CPU.

Prints one JSON object with the keys of hashlab's bench: train_img_per_s, attack_img_per_s, forward_img_per_s,
peak_rss_mb, threads, device. Median of `--reps` timed repetitions after warm-up, each repetition `--iters` steps.
Usage: python3 tests/bench/engine_torch.py --threads 2
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn


def ref_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2048, 512), nn.ReLU(), nn.Linear(512, 48), nn.Tanh())


def timed(fn, iters, reps, batch):
    for _ in range(3):
        fn()
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        rates.append(iters * batch / (time.perf_counter() - t0))
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = ref_cnn()
    x = torch.rand(a.batch, 3, 32, 32)
    t = torch.where(torch.rand(a.batch, 48) < 0.5, -1.0, 1.0)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def train_step():
        opt.zero_grad(set_to_none=False)
        loss = ((net(x) - t) ** 2).mean()
        loss.backward()
        opt.step()

    frozen = ref_cnn()
    for p in frozen.parameters():
        p.requires_grad_(False)

    def attack_step():
        xi = x.clone().requires_grad_(True)
        loss = (frozen(xi) * t).sum()
        loss.backward()

    def forward():
        with torch.no_grad():
            net(x)

    out = {
        "train_img_per_s": timed(train_step, a.iters, a.reps, a.batch),
        "attack_img_per_s": timed(attack_step, a.iters, a.reps, a.batch),
        "forward_img_per_s": timed(forward, a.iters, a.reps, a.batch),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "threads": a.threads,
        "device": "cpu",
        "peer": "pytorch " + torch.__version__,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
