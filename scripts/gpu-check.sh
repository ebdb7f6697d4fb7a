#!/usr/bin/env bash
# The GPU checks in one call, for a machine with a CUDA device (see
# /work/shared/device/README.md): builds the addon against that machine's own
# libtorch (python3's torch, `torch.utils.cmake_prefix_path`), runs
# `npm run test:gpu` (__tests__/gpu/), runs the GPU bench (the tutorial's
# 25-epoch fine-tune, ours against the Python tutorial on the same GPU, float32
# and with amp), and prints one table. Everything it writes goes to $OUT
# (default ./gpu-check-out): summary.md (the table), jest.json, *.log, bench/*.json.
#
#   bash scripts/gpu-check.sh            # everything
#   GPU_CHECK_EPOCHS=2 bash scripts/gpu-check.sh   # a shorter bench
#
# Needs: python3 with a CUDA torch (TORCH_TRANSFER_PYTHON to choose another;
# torchvision for the bench's Python side), cmake and a C++17 compiler, Node
# with this project's node_modules, or .device/gpu-kit.tar.xz from
# scripts/gpu-kit.sh (Node and node_modules, for a machine with neither), and
# the tutorial's data: TT_DATA, else ../shared/data/hymenoptera_data, else
# .device/hymenoptera_data. Nothing here reaches the network.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${OUT:-$root/gpu-check-out}
mkdir -p "$out/bench"
epochs=${GPU_CHECK_EPOCHS:-25}
status=0
die() {
  echo "gpu-check: $*" | tee -a "$out/summary.md" >&2
  exit 1
}
step() { echo "gpu-check: $* ($(date -u +%H:%M:%S))" >&2; }

# 1. Node and node_modules (the kit when this machine has neither).
if { ! command -v node >/dev/null || [ ! -d node_modules ]; } && [ -f .device/gpu-kit.tar.xz ]; then
  step "unpacking .device/gpu-kit.tar.xz"
  mkdir -p /tmp/tt-gpu-kit && tar -xJf .device/gpu-kit.tar.xz -C /tmp/tt-gpu-kit || die "cannot unpack .device/gpu-kit.tar.xz"
  export PATH=/tmp/tt-gpu-kit/node/bin:$PATH
  [ -e node_modules ] || ln -s /tmp/tt-gpu-kit/node_modules node_modules
fi
command -v node >/dev/null || die "no node here: make .device/gpu-kit.tar.xz with scripts/gpu-kit.sh on a machine with Node"
[ -d node_modules/node-addon-api ] || die "no node_modules (node-addon-api, jest): run npm ci, or bring .device/gpu-kit.tar.xz (scripts/gpu-kit.sh)"

# 2. This machine's libtorch: the torch of its python3.
python=${TORCH_TRANSFER_PYTHON:-$(command -v python3)}
export TORCH_TRANSFER_PYTHON=$python
prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)') || die "$python has no torch"
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || die "$python's torch finds no CUDA device"
torch_facts=$("$python" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0), torch.cuda.device_count())')
step "python torch: $torch_facts"

# 3. The data, where the tests and the bench look for it.
data=${TT_DATA:-}
[ -n "$data" ] || { [ -d ../shared/data/hymenoptera_data ] && data=$(cd ../shared/data/hymenoptera_data && pwd); }
[ -n "$data" ] || { [ -d .device/hymenoptera_data ] && data=$root/.device/hymenoptera_data; }
[ -n "$data" ] && [ -d "$data/train" ] || die "the tutorial's data is missing: set TT_DATA (a folder with train/ and val/)"
if [ ! -d ../shared/data/hymenoptera_data ]; then
  mkdir -p ../shared/data && ln -sfn "$data" ../shared/data/hymenoptera_data
fi

# 4. The addon, with plain cmake (no cmake-js needed): Node's headers, Torch_DIR from python's torch.
node_inc=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
[ -f "$node_inc/node_api.h" ] || node_inc=/usr/include/node
[ -f "$node_inc/node_api.h" ] || die "no node_api.h (Node's headers) beside node or in /usr/include/node"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
torch_dir=()
[ -d "$prefix/Torch" ] && torch_dir=(-DTorch_DIR="$prefix/Torch")
step "building against the libtorch under $prefix"
if ! cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" "${torch_dir[@]}" -DCMAKE_JS_INC="$node_inc" \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$root/build/Release" >"$out/build.log" 2>&1 ||
  ! cmake --build build-gpu -j"$(nproc)" >>"$out/build.log" 2>&1; then
  tail -40 "$out/build.log" >&2
  die "the native build failed (see build.log)"
fi
step "building the TypeScript"
node node_modules/typescript/bin/tsc -p tsconfig.build.json >"$out/tsc.log" 2>&1 && node scripts/write-esm-entry.js >>"$out/tsc.log" 2>&1 ||
  die "the TypeScript build failed (see tsc.log)"
node -e '
const tt = require("./dist");
const f = { libtorch: tt.libtorchVersion(), cudaBuilt: tt.backends.cuda.isBuilt(), cudaAvailable: tt.cuda.isAvailable(),
  devices: tt.cuda.deviceCount(), nccl: tt.distributed.isNcclAvailable() };
console.log(JSON.stringify(f));
process.exit(f.cudaBuilt && f.cudaAvailable ? 0 : 1);' >"$out/facts.json" 2>"$out/facts.log" || die "the build loads but has no CUDA device: $(cat "$out/facts.json" "$out/facts.log")"

# 5. The GPU tests.
step "npm run test:gpu"
node node_modules/jest/bin/jest.js --runInBand --config jest.gpu.config.js --json --outputFile="$out/jest.json" >"$out/jest.log" 2>&1 || status=1

# 6. The bench: the tutorial's fine-tune, $epochs epochs, batch 4, random start (no weights are downloaded here).
bench() { # name, then the command
  local name=$1
  shift
  step "bench: $name"
  local started
  started=$(date +%s%N)
  if "$@" >"$out/bench/$name.json" 2>"$out/bench/$name.log"; then
    echo "{\"wallMs\": $((($(date +%s%N) - started) / 1000000))}" >"$out/bench/$name.wall.json"
  else
    status=1
  fi
}
threads=$(nproc)
for amp in false true; do
  flag=()
  [ "$amp" = true ] && flag=(--amp)
  bench "ours-amp-$amp" node dist/cli/finetune.js --data "$data" --device cuda:0 --epochs "$epochs" --weights none --seed 0 \
    --out "$out/bench/run-amp-$amp" --json --no-report "${flag[@]}"
  bench "python-amp-$amp" "$python" scripts/bench/tutorial.py \
    "{\"data\": \"$data\", \"threads\": $threads, \"modes\": [\"finetune\"], \"epochs\": $epochs, \"seed\": 0, \"device\": \"cuda:0\", \"amp\": $amp, \"workers\": 4}"
done

# 7. One table.
node scripts/bench/gpuTable.js "$out" "$torch_facts" | tee "$out/summary.md"
exit $status
