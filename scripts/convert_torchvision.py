#!/usr/bin/env python3
"""Writes a torchvision model's state_dict as a safetensors file that hashlab's ImageNet backbones load as is.

    scripts/convert_torchvision.py resnet18 resnet18.safetensors                     # torchvision's DEFAULT weights
    scripts/convert_torchvision.py vgg16 vgg16.safetensors --weights IMAGENET1K_V1
    scripts/convert_torchvision.py resnet50 r50.safetensors --weights my_finetuned.pth   # a state_dict you saved
    scripts/convert_torchvision.py alexnet rand.safetensors --weights none --seed 3      # random init, no download

Then, in a suite:  params: {backbone: resnet18, pretrained: resnet18.safetensors}  (docs/backbones.md).

Models: alexnet, vgg11, vgg16, resnet18, resnet50 (torchvision's names; vgg11/vgg16 are the variants without
batch norm). The names are torchvision's state_dict keys unchanged; hashlab ignores what its backbones do not declare
(the last classifier layer classifier.6 / fc), so the file keeps them. BatchNorm's integer num_batches_tracked
counters are left out (hashlab keeps none). Tensors are written as F32 little-endian.

--weights: DEFAULT (or any torchvision weights enum name such as IMAGENET1K_V1; downloaded by torchvision into its
cache), none (torchvision's random initialisation after torch.manual_seed(--seed): for tests without a download), or
a path to a .pth/.pt file holding a state_dict (or a whole model) of the same architecture.

This script is for users: hashlab never runs it and needs neither Python nor PyTorch. It needs torch and torchvision
(and numpy), not the `safetensors` package: the format (an 8-byte little-endian header length, a JSON header, the raw
tensor bytes) is written by hand here.
"""
import argparse
import json
import struct
import sys

MODELS = ("alexnet", "vgg11", "vgg16", "resnet18", "resnet50")


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: numpy array} written as F32, sorted by name, laid out contiguously (the reference layout);
    the header is padded with spaces to a multiple of 8 bytes."""
    import numpy as np

    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    import os

    os.replace(tmp, path)


def build(model, weights, seed):
    import torch
    import torchvision

    ctor = getattr(torchvision.models, model)
    if weights.lower() == "none":
        torch.manual_seed(seed)
        return ctor(weights=None), "random (torch.manual_seed(%d))" % seed
    if weights.endswith((".pth", ".pt", ".pth.tar")):
        m = ctor(weights=None)
        sd = torch.load(weights, map_location="cpu")
        if isinstance(sd, torch.nn.Module):
            sd = sd.state_dict()
        if isinstance(sd, dict) and "state_dict" in sd:
            sd = sd["state_dict"]
        sd = {k[7:] if k.startswith("module.") else k: v for k, v in sd.items()}  # DataParallel checkpoints
        m.load_state_dict(sd)
        return m, weights
    return ctor(weights=weights), "torchvision %s %s" % (model, weights)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", choices=MODELS)
    ap.add_argument("out", help="output .safetensors file")
    ap.add_argument("--weights", default="DEFAULT", help="DEFAULT | a weights enum name | none | PATH.pth")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random initialisation (--weights none)")
    a = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("convert_torchvision.py: PyTorch and torchvision are needed (pip install torch torchvision)")
    m, source = build(a.model, a.weights, a.seed)
    tensors = {k: v.detach().to(torch.float32).cpu().numpy() for k, v in m.state_dict().items()
               if not k.endswith("num_batches_tracked")}
    write_safetensors(a.out, tensors, {"source": source, "model": a.model, "format": "pt"})
    n = sum(t.size for t in tensors.values())
    print("%s: %d tensors, %d values (%s)" % (a.out, len(tensors), n, source))


if __name__ == "__main__":
    main()
