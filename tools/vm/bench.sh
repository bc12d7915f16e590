#!/usr/bin/env bash
# `npm run bench:vm`: the kprobe attach/detach and memory benchmark (tools/vm/bench/kprobes.mjs)
# inside one boot of the kprobe-capable test VM. Takes many minutes under qemu TCG, hence opt-in
# rather than part of `npm run bench`. Arguments go to kprobes.mjs (e.g. --sizes 500 --repeat 1);
# BPF_TS_VM_BENCH_TIMEOUT bounds the VM run in seconds (default 7200).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$vm_here/prepare.sh"
cd "$vm_repo"
vm_log "building the packages on the host"
npx turbo run build --output-logs=errors-only
exec bash "$vm_here/run.sh" --timeout "${BPF_TS_VM_BENCH_TIMEOUT:-7200}" --cwd "$vm_repo" -- \
  node tools/vm/bench/kprobes.mjs "$@"
