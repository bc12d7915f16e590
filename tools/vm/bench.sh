#!/usr/bin/env bash
# `npm run bench:vm`: kprobe attach/detach benchmarks inside one boot of a test VM. Takes many
# minutes under qemu TCG, hence opt-in rather than part of `npm run bench`.
#
#   tools/vm/bench.sh [ARGS...]                 per-function kprobes + memory (bench/kprobes.mjs), 6.1 VM
#   tools/vm/bench.sh kprobe-multi [ARGS...]    kprobe-multi vs libbpf and bpftrace (bench/kprobe-multi.mjs), 6.12 VM
#
# ARGS go to the script (e.g. --repeat 1). BPF_TS_VM_KERNEL overrides the kernel (default 6.1,
# or 6.12 for kprobe-multi); BPF_TS_VM_BENCH_TIMEOUT bounds the VM run in seconds (default 7200).
# The peers (bpftrace, a libbpf C program) come from Debian: tools/deps/apt-packages-bench,
# installed as root when missing.
set -euo pipefail
script=kprobes.mjs
if [ "${1:-}" = kprobe-multi ]; then
  script=kprobe-multi.mjs
  shift
  export BPF_TS_VM_KERNEL=${BPF_TS_VM_KERNEL:-6.12}
fi
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$vm_repo/tools/deps/ensure-apt.sh" --list "$vm_repo/tools/deps/apt-packages-bench"
bash "$vm_here/prepare.sh"
cd "$vm_repo"
vm_log "building the packages on the host"
npx turbo run build --output-logs=errors-only
exec bash "$vm_here/run.sh" --timeout "${BPF_TS_VM_BENCH_TIMEOUT:-7200}" --cwd "$vm_repo" -- \
  node "tools/vm/bench/$script" "$@"
