#!/usr/bin/env bash
# CI leg: a fresh Debian 13 (trixie) root, made here with debootstrap from the
# Debian mirror this machine uses, in which the README's set-up and test
# commands run as a Debian 13 user would type them: as root, in a clean copy
# of the checkout, `npm ci && npm test`. Debian 13 brings libtorch 2.6,
# python3-torch 2.6 and torchvision 0.21; the set-up installs them itself.
#
# Reached from here: the Debian mirror (debootstrap, and apt inside the root)
# and the npm registry (`npm ci` inside the root). This machine's Node (the
# binary, npm and Node's headers) is copied in, as a user would have
# installed it; nothing else of this machine's (npm cache, node_modules,
# build output) goes in. The root is made anew each run and removed at exit.
#
# Last line of output: "N passed, N failed" for this leg; exit status 0 only
# when the set-up succeeded and no test failed. Needs root (debootstrap, chroot).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
fi
mirror=${mirror:-http://deb.debian.org/debian}

summary() { echo "$1 passed, $2 failed"; }
if [ "$(id -u)" != 0 ]; then
  echo "debian13: needs root (debootstrap and chroot)" >&2
  summary 0 1
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

root=$(mktemp -d "${TMPDIR:-/var/tmp}/tt-debian13.XXXXXX")
mounts=(proc dev dev/pts)
cleanup() {
  local m
  # Every mount under the root, deepest first: ours, and any a test made
  # inside it (the multi-node test's `ip netns add` mounts run/netns there).
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done < <(awk -v r="$root" 'index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r)
  # Never remove while anything is still mounted in the root.
  if awk -v r="$root" 'index($2, r "/") == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    echo "debian13: something is still mounted under $root; leaving it in place" >&2
    return
  fi
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "debian13: $1" >&2
  summary 0 1
  exit 1
}

echo "debian13: debootstrap trixie from $mirror into $root"
debootstrap --variant=minbase trixie "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
  { tail -20 "$root.debootstrap.log" >&2; rm -f "$root.debootstrap.log"; fail "debootstrap failed"; }
rm -f "$root.debootstrap.log"

# This machine's Node: the binary, npm, and Node's headers (the addon's build
# would otherwise download them from nodejs.org).
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
node_include=$(dirname "$(dirname "$node_bin")")/include/node
install -D -m 755 "$node_bin" "$root/usr/bin/node"
mkdir -p "$root/usr/lib/node_modules" "$root/usr/include"
cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
[ -d "$node_include" ] && cp -a "$node_include" "$root/usr/include/node"

# The environment a user's shell would have, this machine's way out to the
# npm registry (a proxy or an extra CA it needs), and how OpenMP shares the
# cores with another leg (.ci/run says why), nothing else.
env_in=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb CI=true)
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY OMP_WAIT_POLICY; do
  [ -n "${!v:-}" ] && env_in+=("$v=${!v}")
done
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  install -D -m 644 "$NODE_EXTRA_CA_CERTS" "$root/usr/local/share/ca-certificates/ci-extra.crt"
  env_in+=(NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/ci-extra.crt)
fi

# A clean copy of the checkout: its files, without what git ignores.
mkdir -p "$root/root/torch-transfer"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$root/root/torch-transfer" ||
  fail "could not copy the checkout"

for m in "${mounts[@]}"; do mount --bind "/$m" "$root/$m" || fail "could not mount /$m in the root"; done

# The tutorial's data sits beside the checkout (../shared/data), where the
# tests look for it; it is bound in, not copied.
data=$(cd "$repo/.." && pwd)/shared/data
if [ -d "$data" ]; then
  mkdir -p "$root/root/shared/data"
  mount --bind "$data" "$root/root/shared/data" || fail "could not mount $data in the root"
  mounts+=(root/shared/data)
fi

# The README's commands (the reporter flags only make the counts readable).
chroot "$root" env -i "${env_in[@]}" bash -c \
  'cd /root/torch-transfer && npm ci && npm test -- --json --outputFile=/root/jest-results.json'
status=$?

node -e '
const fs = require("fs");
let r = null;
try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
// No results: the set-up failed before the tests ran, which is a failure.
const passed = r ? r.numPassedTests : 0;
const failed = r ? r.numFailedTests + r.numRuntimeErrorTestSuites : 1;
console.log(`${passed} passed, ${failed} failed`);
' "$root/root/jest-results.json"
exit $status
