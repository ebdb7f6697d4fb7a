#!/usr/bin/env bash
# The CUDA build, proven to compile and link without a GPU. Run as root inside
# a Debian 13 (trixie) root whose apt sources have contrib and non-free (e.g.
# one made as scripts/ci/debian13.sh makes it), from a clean copy of the
# checkout:
#
#   bash scripts/ci/cuda-build.sh
#
# It installs Debian's CUDA libtorch (libtorch-cuda-dev 2.6 with CUDA 12.4,
# contrib), the CUDA toolkit and NCCL (nvidia-cuda-toolkit, libnccl-dev,
# non-free) and Gloo's CUDA twin (libgloo-cuda-dev: libgloo-dev conflicts with
# the CUDA libtorch), builds the addon with the README's `npm ci` (CMake turns
# CUDA and c10d's NCCL on), and exits 0 only if require("torch-transfer") then
# loads here with tt.backends.cuda.isBuilt() and
# tt.distributed.isNcclAvailable() true and tt.cuda.isAvailable() false.
#
# nvidia-cudnn, which libtorch-cuda-2.6 depends on, is an installer: its
# postinst downloads cuDNN from NVIDIA, which fails where only the Debian
# mirror and the npm registry can be reached. In its place this installs a
# placeholder package of the same name and version range (what equivs makes,
# built here with dpkg-deb) and holds it. What that leaves out: cuDNN itself
# (libcudnn.so.9). The build does not need it (libtorch's headers and CMake
# files do not), but at run time libtorch's cuDNN paths (convolutions on CUDA
# with torch.backends.cudnn enabled, the default) need the real library: on a
# GPU machine, install nvidia-cudnn properly (with network access) or put
# NVIDIA's cuDNN 9 for CUDA 12 on the loader's path. If libtorch_cuda links
# cuDNN directly, the final require() check below fails without it and says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

die() {
  echo "cuda-build: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || die "run as root (it installs packages with apt-get)"
. /etc/os-release
[ "${VERSION_CODENAME:-}" = trixie ] || die "run inside Debian 13 (trixie); this is ${PRETTY_NAME:-unknown}"

apt-get update -qq
for component in contrib non-free; do
  apt-cache policy | grep -q "trixie/$component " ||
    die "apt has no trixie $component component: add \"contrib non-free\" to the Components of /etc/apt/sources.list.d/debian.sources (or sources.list) and run again"
done

# The nvidia-cudnn placeholder (see above).
if ! dpkg-query -W -f='${Status}' nvidia-cudnn 2>/dev/null | grep -q "install ok installed"; then
  work=$(mktemp -d)
  mkdir -p "$work/pkg/DEBIAN"
  cat >"$work/pkg/DEBIAN/control" <<'CONTROL'
Package: nvidia-cudnn
Version: 9.0.0.312~cuda12+ttplaceholder1
Architecture: all
Section: contrib/libs
Priority: optional
Maintainer: torch-transfer CI <root@localhost>
Description: placeholder for nvidia-cudnn: no cuDNN inside
 Satisfies libtorch-cuda-2.6's dependency where NVIDIA's download cannot be
 reached, so that the CUDA libtorch can be installed to build against.
 cuDNN itself is missing: install the real nvidia-cudnn to run on a GPU.
CONTROL
  dpkg-deb --build "$work/pkg" "$work/nvidia-cudnn.deb" >/dev/null
  dpkg -i "$work/nvidia-cudnn.deb" >/dev/null
  rm -rf "$work"
fi
apt-mark hold nvidia-cudnn >/dev/null

# libtorch-cuda-dev conflicts with the CPU libtorch-dev: apt may remove that one.
apt-get install -y -qq --no-install-recommends \
  libtorch-cuda-dev nvidia-cuda-toolkit libnccl-dev libgloo-cuda-dev \
  cmake g++ make python3 libjpeg62-turbo-dev >/dev/null

# The README's set-up (finds the system's libtorch, now the CUDA one).
npm ci

node -e '
const tt = require("torch-transfer");
const facts = {
  libtorch: tt.libtorchVersion(),
  "backends.cuda.isBuilt()": tt.backends.cuda.isBuilt(),
  "distributed.isNcclAvailable()": tt.distributed.isNcclAvailable(),
  "cuda.isAvailable()": tt.cuda.isAvailable(),
};
console.log(JSON.stringify(facts, null, 2));
const ok = facts["backends.cuda.isBuilt()"] && facts["distributed.isNcclAvailable()"] && !facts["cuda.isAvailable()"];
if (!ok) {
  console.error("cuda-build: expected isBuilt() and isNcclAvailable() true and isAvailable() false (no GPU here)");
  process.exit(1);
}
console.log("cuda-build: the CUDA and NCCL build loads without a GPU");
'
