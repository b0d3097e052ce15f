#!/usr/bin/env bash
# Runs `hashlab bench engine` and the PyTorch peer alternately ROUNDS times (default 3) on the same machine, then
# prints each side's per-round figures and the median ratios. The machine is shared and noisy: alternating
# rounds and taking medians keeps both sides under the same conditions.
#   tests/bench/compare_engine.sh [BUILD_DIR] [THREADS] [ROUNDS] [MODEL] [BATCH]
# MODEL: ref-cnn (default: 3x32x32, batch 64) or a backbone (resnet18, vgg11, ...: 3x224x224, batch 16 unless BATCH).
set -euo pipefail
build=${1:-build}; threads=${2:-2}; rounds=${3:-3}; model=${4:-ref-cnn}; batch=${5:-}
py=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
args=(--model "$model")
if [ -n "$batch" ]; then args+=(--batch "$batch"); fi
for ((i = 0; i < rounds; i++)); do
  echo "hl $("$build/hashlab" bench engine --threads "$threads" "${args[@]}" --json)" >> "$out"
  echo "pt $("$py" "$here/engine_torch.py" --threads "$threads" "${args[@]}")" >> "$out"
done
"$py" - "$out" <<'PY'
import json, statistics, sys
rows = [l.split(" ", 1) for l in open(sys.argv[1])]
hl = [json.loads(j) for k, j in rows if k == "hl"]
pt = [json.loads(j) for k, j in rows if k == "pt"]
print(f"model {hl[0].get('model', 'ref-cnn')} {hl[0].get('input', '')} batch {hl[0].get('batch', '')}, "
      f"{hl[0]['threads']} threads, {len(hl)} rounds; {pt[0]['peer']}")
# "paired" = median over rounds of hashlab_i / pytorch_i: each round's two runs are adjacent in time, so a slow
# phase of the shared host tends to hit both; it is the figure to quote.
for key in ("train_img_per_s", "attack_img_per_s", "forward_img_per_s", "peak_rss_mb"):
    a = [r[key] for r in hl]; b = [r[key] for r in pt]
    paired = statistics.median(x / y for x, y in zip(a, b))
    print(f"{key:18s} hashlab {statistics.median(a):8.1f}  pytorch {statistics.median(b):8.1f}  "
          f"ratio of medians {statistics.median(a) / statistics.median(b):5.2f}  paired {paired:5.2f}"
          f"   (hashlab {a}, pytorch {[round(x, 1) for x in b]})")
PY
rm -f "$out"
