#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages hashlab needs to build, test and run its default job.
# Does nothing when everything is present; uses sudo when not root; never prompts (DEBIAN_FRONTEND=noninteractive).
#   scripts/install-deps.sh            build + tests + default run (Fashion-MNIST from dataset-fashion-mnist)
#   scripts/install-deps.sh --bench    also the benchmark peers (python3-torch, python3-torchvision, python3-faiss)
set -euo pipefail

pkgs=(build-essential cmake pkg-config libopenblas-openmp-dev libyaml-dev libpng-dev zlib1g-dev libcriterion-dev
      libjpeg-dev libcurl4-openssl-dev libarchive-dev libssl-dev libplplot-dev plplot-driver-cairo
      dataset-fashion-mnist)
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(python3 python3-numpy python3-torch python3-torchvision python3-faiss chromium)
fi

missing=()
for p in "${pkgs[@]}"; do
  # dpkg-query prints "install ok installed" only for fully installed packages.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; install these packages by hand: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "install-deps: not root and no sudo; install these packages as root: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
