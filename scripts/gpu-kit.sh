#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has no Node:
# this machine's Node (binary and headers) and node_modules without the parts
# the GPU checks never load (onnxruntime-node, playwright, typedoc, the report's
# vega), into .device/gpu-kit.tar.xz (ignored by git). Run in the project root
# after `npm ci`. The run tool carries at most 64 MiB: it prints the size.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .device
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >>"$(git rev-parse --git-common-dir)/info/exclude"
stage=$(mktemp -d)
mkdir -p "$stage/node/bin" "$stage/node/include/node"
cp "$(readlink -f "$(command -v node)")" "$stage/node/bin/node"
inc=$(dirname "$(find /usr/include/node /usr/local/include/node -name node_api.h 2>/dev/null | head -n 1)")
cp "$inc"/node_api*.h "$inc"/js_native_api*.h "$inc"/node_version.h "$stage/node/include/node/"
tar -cf - --exclude=node_modules/onnxruntime-node --exclude=node_modules/playwright-core --exclude=node_modules/typedoc \
  --exclude=node_modules/@shikijs --exclude=node_modules/vega --exclude=node_modules/vega-lite --exclude='node_modules/vega-*' \
  --exclude=node_modules/.cache node_modules | tar -xf - -C "$stage"
tar -cJf .device/gpu-kit.tar.xz -C "$stage" node node_modules
rm -rf "$stage"
ls -la .device/gpu-kit.tar.xz
