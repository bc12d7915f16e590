#!/usr/bin/env bash
# Run every *.vm.test.ts (packages/*/src, packages/*/test and tools/vm) on each kernel of the VM
# matrix (5.10, 6.1, 6.12; lib.sh), two VM boots per kernel (pwru's end-to-end tests, the rest;
# one boot when vitest arguments are given), as many VMs side by side as the machine has cores
# (each line of a kernel's output prefixed "[<kernel>] "), with
# tools/vm/vitest.config.ts. A kernel whose suite fails does not stop the others; the command
# prints one summary line per kernel and fails at the end if any kernel failed.
#
#   tools/vm/test.sh [VITEST ARGS...]     e.g. tools/vm/test.sh packages/loader
#
# Each kernel's vitest JSON report lands in .vm-cache/results/<kernel>.json (what
# `npm run kernel-table` turns into the README's feature × kernel table).
#
# Environment:
#   BPF_TS_VM_KERNELS       comma-separated subset of the matrix, e.g. 6.12,6.1 (default: all)
#   BPF_TS_VM_NO_BUILD=1    skip the host build (turbo; tests import each other's dist/)
#   BPF_TS_VM_TEST_TIMEOUT  bound of each kernel's VM run in seconds (default 3600)
#   BPF_TS_VM_JOBS          VMs run side by side (default: the number of host cores)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernels=()
IFS=, read -r -a kernels <<< "${BPF_TS_VM_KERNELS:-$(IFS=,; echo "${vm_kernels[*]}")}"
for k in "${kernels[@]}"; do
  vm_kernel_spec "$k" > /dev/null \
    || vm_die_status=2 vm_die "BPF_TS_VM_KERNELS: '$k' is not one of: ${vm_kernels[*]}"
done
[ ${#kernels[@]} -gt 0 ] || vm_die_status=2 vm_die "BPF_TS_VM_KERNELS selects no kernel"

cd "$vm_repo"
if [ "${BPF_TS_VM_NO_BUILD:-0}" != 1 ]; then
  vm_log "building the packages on the host"
  npx turbo run build --output-logs=errors-only || vm_die "the host build failed"
fi

results=$vm_cache/results
mkdir -p "$results"
status_dir=$(mktemp -d "$vm_cache/status.XXXXXX")
trap 'rm -rf "$status_dir"' EXIT

# Prepare kernel $1 and run part $2 of its VM suites (vitest arguments $3...) in one VM boot,
# its output prefixed with "[$1] "; leave the part's vitest report, exit status and wall time
# in $status_dir/$1.$2.{json,status,seconds}.
run_part() {
  local k=$1 part=$2 start status=0 out
  shift 2
  case $part in
    e2e) set -- packages/pwru/test/e2e/ "$@" ;;
    rest) set -- '--exclude=packages/pwru/test/e2e/**' "$@" ;;
  esac
  start=$(date +%s)
  out=$(mktemp -d "$vm_cache/out.XXXXXX")
  vm_log "kernel $k ($part): preparing"
  if BPF_TS_VM_KERNEL=$k bash "$vm_here/prepare.sh"; then
    vm_log "kernel $k ($part): running the VM suites"
    BPF_TS_VM_KERNEL=$k bash "$vm_here/run.sh" --timeout "${BPF_TS_VM_TEST_TIMEOUT:-3600}" \
      --cwd "$vm_repo" --out "$out" -- \
      node_modules/.bin/vitest run --config tools/vm/vitest.config.ts \
      --reporter=default --reporter=json --outputFile.json=/run/bpfts-vm/out/vitest.json "$@" \
      || status=$?
  else
    status=$?
  fi
  [ ! -s "$out/vitest.json" ] || mv "$out/vitest.json" "$status_dir/$k.$part.json"
  rm -rf "$out"
  echo "$status" > "$status_dir/$k.$part.status"
  echo $(($(date +%s) - start)) > "$status_dir/$k.$part.seconds"
}

# A full run splits each kernel's suites into two VM boots, so that two cores share the work
# evenly: pwru's end-to-end tests (the longest files) and everything else. Vitest arguments
# select files themselves and run in one boot per kernel.
if [ $# -eq 0 ]; then
  parts=(e2e rest)
else
  parts=(all)
fi

# Each VM keeps about one host core busy (TCG), so on a machine with N cores up to N VMs run
# side by side (BPF_TS_VM_JOBS overrides it), the longest parts and the newest kernels first.
jobs=${BPF_TS_VM_JOBS:-$(nproc)}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || vm_die_status=2 vm_die "BPF_TS_VM_JOBS: '$jobs' is not a positive number"
for part in "${parts[@]}"; do
  for ((i = ${#kernels[@]} - 1; i >= 0; i--)); do
    k=${kernels[$i]}
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    if [ "$jobs" = 1 ]; then
      run_part "$k" "$part" "$@"
    else
      { run_part "$k" "$part" "$@" 2>&1 | sed -u "s/^/[$k] /"; } &
    fi
  done
done
wait

# One report and one summary line per kernel, its parts' reports merged; only a full run (no
# vitest filter) stands for the kernel in the README's table (`npm run kernel-table`).
failed=0
for k in "${kernels[@]}"; do
  dest=$results/$k.json
  [ $# -eq 0 ] || dest=$results/$k.partial.json
  node "$vm_here/merge-reports.mjs" "$status_dir" "$k" "$dest" "$jobs" "${parts[@]}" >&2 || failed=1
done
exit $failed
