#!/usr/bin/env python3
"""PyTorch peer for `hashlab bench engine` (docs/bench.md): the same ref-cnn (batch 64), or a torchvision
backbone under the same hashing head (--model resnet18|vgg11|...: 3x224x224, batch 16), float32, CPU or CUDA
(--device cuda: timings end with torch.cuda.synchronize()).

Backbone models: torchvision's model with its last layer removed (ResNet fc, AlexNet/VGG classifier[6]), on
(x - mean)/std as hashlab's backbones normalise inside, then Linear(F, 48) and Tanh; training in train mode (batch
statistics, dropout), attack and forward in eval mode, as hashlab's bench runs them.

Prints one JSON object with the keys of hashlab's bench: model, input, batch, train_img_per_s, attack_img_per_s,
forward_img_per_s, peak_rss_mb, threads, device. Median of `--reps` timed repetitions after warm-up, each repetition
`--iters` steps (defaults as hashlab's: ref-cnn 10 x 5 after 3, backbones 2 x 3 after 1).
Usage: python3 tests/bench/engine_torch.py --threads 2 [--model resnet18] [--batch 16]
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


class Backbone(nn.Module):
    """torchvision backbone without its last layer, normalising its [0,1] input, under a 48-unit tanh head."""

    def __init__(self, name):
        super().__init__()
        import torchvision

        m = getattr(torchvision.models, name)(weights=None)
        if name.startswith("resnet"):
            feats = m.fc.in_features
            m.fc = nn.Identity()
        else:
            feats = m.classifier[6].in_features
            m.classifier = m.classifier[:6]
        self.body, self.head = m, nn.Sequential(nn.Linear(feats, 48), nn.Tanh())
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x):
        return self.head(self.body((x - self.mean) / self.std))


def make(model):
    return ref_cnn() if model == "ref-cnn" else Backbone(model)


def timed(fn, iters, reps, batch, warmup, sync=lambda: None):
    for _ in range(warmup):
        fn()
    sync()
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        sync()  # CUDA: wait for the queued kernels (hashlab's steps end with a transfer, the same sync point)
        rates.append(iters * batch / (time.perf_counter() - t0))
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="ref-cnn")
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--iters", type=int, default=0)
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=-1)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("engine_torch.py: --device cuda but torch.cuda.is_available() is False")
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    ref = a.model == "ref-cnn"
    size = a.size or (32 if ref else 224)
    a.batch = a.batch or (64 if ref else 16)
    a.iters = a.iters or (10 if ref else 2)
    a.reps = a.reps or (5 if ref else 3)
    warmup = a.warmup if a.warmup >= 0 else (3 if ref else 1)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = make(a.model).to(dev)
    x = torch.rand(a.batch, 3, size, size).to(dev)
    t = torch.where(torch.rand(a.batch, 48) < 0.5, -1.0, 1.0).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def train_step():
        net.train()
        opt.zero_grad(set_to_none=False)
        loss = ((net(x) - t) ** 2).mean()
        loss.backward()
        opt.step()

    def attack_step():  # the trained net with its weights frozen (as hashlab's bench), eval mode
        xi = x.clone().requires_grad_(True)
        loss = (net(xi) * t).sum()
        loss.backward()

    def forward():
        net.eval()
        with torch.no_grad():
            net(x)

    out = {
        "model": a.model,
        "input": "3x%dx%d" % (size, size),
        "batch": a.batch,
        "train_img_per_s": timed(train_step, a.iters, a.reps, a.batch, warmup, sync),
    }
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    out.update({
        "attack_img_per_s": timed(attack_step, a.iters, a.reps, a.batch, warmup, sync),
        "forward_img_per_s": timed(forward, a.iters, a.reps, a.batch, warmup, sync),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "threads": a.threads,
        "device": a.device,
        "peer": "pytorch " + torch.__version__,
    })
    print(json.dumps(out))


if __name__ == "__main__":
    main()
