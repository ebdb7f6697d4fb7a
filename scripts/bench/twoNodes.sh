#!/usr/bin/env bash
# Data-parallel fine-tuning across two "hosts": two network namespaces joined
# by a veth pair (10.231.9.1 and .2), one process of 1 thread each, with the
# link as it is and limited to a rate by tbf on both ends. Prints one JSON
# line per run and the seconds the limit adds to each step, from the train
# phase's seconds and its step count.
#
#   sudo bash scripts/bench/twoNodes.sh [RATE=1gbit] [IMAGES_PER_CLASS=16] [BATCH=4]
#
# Needs root (ip netns, tc), iproute2, the built package (dist/) and the
# tutorial's data beside the checkout (../shared/data/hymenoptera_data).
# Both processes share this machine's cores, so what the limit adds is the
# figure to read, not the step time itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rate=${1:-1gbit}
per_class=${2:-16}
batch=${3:-4}
data_src=${TT_DATA:-$root/../shared/data/hymenoptera_data}
[ "$(id -u)" = 0 ] || { echo "twoNodes: needs root (ip netns, tc)" >&2; exit 2; }
[ -d "$data_src/train" ] || { echo "twoNodes: no $data_src/train" >&2; exit 2; }

tag=$$
ns=(ttb${tag}a ttb${tag}b)
dev=(vb${tag}a vb${tag}b)
addr=(10.231.9.1 10.231.9.2)
work=$(mktemp -d)
cleanup() {
  ip netns del "${ns[0]}" 2>/dev/null || true
  ip netns del "${ns[1]}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A small copy of the data: the first N images of each class, train and val.
for split in train val; do
  for cls in "$data_src/$split"/*/; do
    c=$(basename "$cls")
    mkdir -p "$work/data/$split/$c"
    find "$cls" -maxdepth 1 -type f -iname '*.jpg' | sort | head -n "$per_class" | while read -r f; do ln -s "$f" "$work/data/$split/$c/"; done
  done
done

ip netns add "${ns[0]}"
ip netns add "${ns[1]}"
ip link add "${dev[0]}" type veth peer name "${dev[1]}"
for i in 0 1; do
  ip link set "${dev[i]}" netns "${ns[i]}"
  nsenter --net=/run/netns/"${ns[i]}" ip addr add "${addr[i]}/24" dev "${dev[i]}"
  nsenter --net=/run/netns/"${ns[i]}" ip link set "${dev[i]}" up
  nsenter --net=/run/netns/"${ns[i]}" ip link set lo up
done

limit() {  # limit RATE | limit none
  for i in 0 1; do
    nsenter --net=/run/netns/"${ns[i]}" tc qdisc del dev "${dev[i]}" root 2>/dev/null || true
    if [ "$1" != none ]; then
      nsenter --net=/run/netns/"${ns[i]}" tc qdisc add dev "${dev[i]}" root tbf rate "$1" burst 256kb latency 50ms
    fi
  done
}

run() {  # run LABEL: both nodes, one epoch; prints the train phase's seconds and steps
  local label=$1 port=$((29600 + RANDOM % 300)) pids=() i
  for i in 0 1; do
    nsenter --net=/run/netns/"${ns[i]}" env GLOO_SOCKET_IFNAME="${dev[i]}" OMP_NUM_THREADS=1 node "$root/dist/cli/finetune.js" \
      --data "$work/data" --epochs 1 --weights none --batch-size "$batch" --seed 1 \
      --nnodes 2 --node-rank "$i" --nproc-per-node 1 --master-addr "${addr[0]}" --master-port "$port" \
      --out "$work/out-$label-$port-$i" --json --no-report >"$work/$label-$i.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { cat "$work/$label-"*.log >&2; exit 1; }; done
  node -e '
const fs = require("fs");
const [file, label, rate, perClass, batch] = process.argv.slice(1);
const train = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("{") && l.includes("\"phase\":\"train\""))
  .map((l) => JSON.parse(l))[0];
// Each node sees half the train images; the last batch may be short.
const steps = Math.ceil(train.images / 2 / Number(batch));
console.log(JSON.stringify({ label, rate, perClass: Number(perClass), batchPerNode: Number(batch), trainSeconds: train.seconds, steps, secondsPerStep: train.seconds / steps }));
' "$work/$label-0.log" "$label" "$( [ "$label" = limited ] && echo "$rate" || echo veth )" "$per_class" "$batch"
}

results=()
for round in 1 2; do
  limit none
  results+=("$(run free)")
  limit "$rate"
  results+=("$(run limited)")
done
printf '%s\n' "${results[@]}"
printf '%s\n' "${results[@]}" | node -e '
const rows = require("fs").readFileSync(0, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const best = (label) => Math.min(...rows.filter((r) => r.label === label).map((r) => r.secondsPerStep));
const cpu = require("os").cpus()[0].model;
console.log(JSON.stringify({ cpu, loadAverage: require("os").loadavg()[0], freeSecondsPerStep: best("free"), limitedSecondsPerStep: best("limited"), addedSecondsPerStep: best("limited") - best("free") }));
'
