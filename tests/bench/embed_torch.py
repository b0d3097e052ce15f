#!/usr/bin/env python3
"""tests/bench/embed_torch.py -- `hashlab embed` against torchvision's forward, backbone by backbone.

For each backbone (default: alexnet vgg11 vgg16 resnet18 resnet50) this
  1. builds torchvision's model with random weights (torch.manual_seed(seed)), gives its batch norms random running
     statistics (so eval mode is exercised), and writes its state_dict as safetensors -- with
     scripts/convert_torchvision.py when that script exists and the model has no batch norm (so the converter's files
     are what hashlab reads), else with the small writer below (json + struct + numpy: no `safetensors` package);
  2. writes a few seeded RGB PNG images (224 x 224 by default) and a list of them;
  3. runs `hashlab embed --backbone NAME --weights FILE --images LIST --out F.npy`;
  4. runs torchvision's model in eval mode on the same pixels (value / 255, then ImageNet's mean/std normalisation,
     which hashlab's ImageNet backbones apply inside their forward) up to the same layer: the ResNets without `fc`
     (the pooled output), AlexNet/VGG with classifier[:-1] (fc7 after its ReLU);
  5. compares: max_rel = max|a - b| / max|b| and mean_rel = mean|a - b| / mean|b| over all features; a backbone
     passes when max_rel <= --tol (default 1e-4).

Prints one line per backbone and exits 1 when any fails. Without torch/torchvision it prints SKIPPED and exits 0
(exit 1 with --require). A backbone hashlab does not know is a failure ("unknown backbone").

    /usr/bin/python3 tests/bench/embed_torch.py --hashlab build/hashlab [--backbones resnet18,vgg11] [--images 3]
        [--size 224] [--threads 2] [--seed 0] [--tol 1e-4] [--keep DIR]
(also `make bench-agreement`; packages: scripts/install-deps.sh --bench)
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ALL = ["alexnet", "vgg11", "vgg16", "resnet18", "resnet50"]
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def write_png(path, rgb):
    """rgb: uint8 numpy array [h, w, 3] -> an 8-bit RGB PNG (filter 0 on every row)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def write_safetensors(path, tensors):
    """tensors: name -> float32 numpy array; safetensors layout: u64 header length, JSON header, raw data."""
    import numpy as np
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {e['dtype']}, this script reads F32 only")
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(e["shape"]).copy()
    return out


def build(name, seed, tmp, repo):
    """The torchvision model (eval, truncated to the features) and the safetensors file hashlab reads."""
    import torch
    import torchvision
    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(weights=None)
    has_bn = any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    path = os.path.join(tmp, f"{name}.safetensors")
    conv = os.path.join(repo, "scripts", "convert_torchvision.py")
    how = "written here"
    if os.path.exists(conv) and not has_bn:
        subprocess.run([sys.executable, conv, name, path, "--weights", "none", "--seed", str(seed)], check=True,
                       stdout=subprocess.DEVNULL)
        sd = {k: torch.from_numpy(v) for k, v in read_safetensors(path).items()}
        model.load_state_dict(sd, strict=False)  # the file is what both sides use
        how = "convert_torchvision.py"
    else:
        g = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.copy_(0.2 * torch.randn(m.running_mean.shape, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
                    m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
        write_safetensors(path, {k: v.detach().numpy() for k, v in model.state_dict().items()
                                 if v.dtype == torch.float32})
    if name.startswith("resnet"):
        model.fc = torch.nn.Identity()
    else:
        model.classifier = model.classifier[:-1]
    model.eval()
    return model, path, how


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hashlab", default="build/hashlab")
    ap.add_argument("--backbones", default=",".join(ALL))
    ap.add_argument("--images", type=int, default=3)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--keep", default=None, help="work in this folder and keep it")
    ap.add_argument("--require", action="store_true", help="fail (exit 1) instead of skipping without torch")
    a = ap.parse_args()
    try:
        import numpy as np
        import torch
        import torchvision
    except ImportError as e:
        print(f"embed_torch: SKIPPED: {e} (install python3-torch python3-torchvision python3-numpy: "
              f"scripts/install-deps.sh --bench)")
        return 1 if a.require else 0
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    hashlab = os.path.abspath(a.hashlab)
    if not os.access(hashlab, os.X_OK):
        print(f"embed_torch: {hashlab} is not an executable (build hashlab first)")
        return 1
    torch.set_num_threads(a.threads)
    tmp = a.keep or tempfile.mkdtemp(prefix="hashlab-embed-torch-")
    os.makedirs(tmp, exist_ok=True)
    print(f"embed_torch: torch {torch.__version__}, torchvision {torchvision.__version__}; {a.images} images "
          f"{a.size}x{a.size}, seed {a.seed}, {a.threads} threads, tolerance max_rel <= {a.tol:g}")
    # seeded images: smooth colour gradients plus noise, so every feature sees structure
    rng = np.random.default_rng(a.seed)
    imgs = []
    with open(os.path.join(tmp, "list.txt"), "w") as lf:
        yy, xx = np.mgrid[0:a.size, 0:a.size] / a.size
        for i in range(a.images):
            base = np.stack([np.sin(6.28 * (xx * rng.uniform(0.5, 3) + yy * rng.uniform(0.5, 3)) + rng.uniform(0, 6))
                             for _ in range(3)], -1)
            img = np.clip(127.5 + 90 * base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
            write_png(os.path.join(tmp, f"img{i}.png"), img)
            lf.write(f"img{i}.png\n")
            imgs.append(img)
    x = torch.from_numpy(np.stack(imgs).astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    failed = 0
    for name in [b for b in a.backbones.split(",") if b]:
        model, wpath, how = build(name, a.seed, tmp, repo)
        out = os.path.join(tmp, f"{name}.npy")
        env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
        t0 = time.time()
        r = subprocess.run([hashlab, "--threads", str(a.threads), "embed", "--backbone", name, "--weights", wpath,
                            "--images", os.path.join(tmp, "list.txt"), "--out", out, "--image-size", str(a.size),
                            "--batch", str(a.images), "--quiet"], capture_output=True, text=True, env=env)
        t_hl = time.time() - t0
        if r.returncode != 0:
            print(f"  {name:9s} FAIL  hashlab embed exited {r.returncode}: {r.stderr.strip()}")
            failed += 1
            continue
        t0 = time.time()
        with torch.no_grad():
            want = model(x).numpy().astype(np.float64)
        t_pt = time.time() - t0
        got = np.load(out).astype(np.float64)
        if got.shape != want.shape:
            print(f"  {name:9s} FAIL  shape {got.shape}, torchvision {want.shape}")
            failed += 1
            continue
        diff = np.abs(got - want)
        max_rel = diff.max() / max(np.abs(want).max(), 1e-30)
        mean_rel = diff.mean() / max(np.abs(want).mean(), 1e-30)
        ok = max_rel <= a.tol
        failed += not ok
        print(f"  {name:9s} {'ok  ' if ok else 'FAIL'}  features {want.shape[1]:4d}  max_rel {max_rel:.2e}  "
              f"mean_rel {mean_rel:.2e}  max|b| {np.abs(want).max():.3g}  (weights: {how}; hashlab {t_hl:.1f} s, "
              f"torch {t_pt:.1f} s)")
        for f in (wpath, out):
            if not a.keep:
                os.remove(f)
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"embed_torch: {'all agree' if not failed else f'{failed} backbone(s) disagree or failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
