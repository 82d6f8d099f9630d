#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian machine (root, Python >= 3.11, no GPU):
# Debian packages (only those missing), .venv/ at the repository root, the CPU build of torch, ilya itself.
# A second run does nothing unless pyproject.toml or this script changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real data and tools: Metamath + set.mm, Fashion-MNIST, Coq + mathcomp (GamePad), Chromium (browser tests),
# EGL + OSMesa with Mesa's software drivers (MuJoCo offscreen rendering), and the standard compressors
# the Sparse Transformer is measured against.
DEBS=(metamath metamath-databases dataset-fashion-mnist coq libcoq-mathcomp chromium chromium-driver
      libosmesa6 libegl1 libgl1-mesa-dri xz-utils zstd p7zip-full zpaq)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv || { apt-get install -y -qq python3-venv >/dev/null && "$PY" -m venv .venv; }
fi

stamp=.venv/.ilya-setup-stamp
want=$(cat pyproject.toml setup.py scripts/setup.sh $(find src -name "*.pyx" | sort) 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! .venv/bin/python -c "import ilya" 2>/dev/null; then
  echo "setup: installing ilya into .venv (first run takes a few minutes)"
  # pip's notes about this machine's local package mirror are noise: keep errors, drop those.
  pipq() { .venv/bin/python -m pip install -q "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
  pipq --upgrade pip
  # The CPU build of torch first, so nothing later pulls a multi-GB CUDA build.
  pipq "torch==2.13.0"
  pipq -e ".[all,dev,bench]"
  echo "$want" > "$stamp"
fi
