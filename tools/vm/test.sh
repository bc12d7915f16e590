#!/usr/bin/env bash
# Run every *.vm.test.ts (packages/*/src, packages/*/test and tools/vm) on each kernel of the VM
# matrix (5.10, 6.1, 6.12; lib.sh), one VM boot per kernel, as many kernels side by side as the
# machine has cores (each line of a kernel's output prefixed "[<kernel>] "), with
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
#   BPF_TS_VM_JOBS          kernels run side by side (default: the number of host cores)
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

# Prepare and run kernel $1's VM suites, its output prefixed with "[$1] "; write its summary
# line to $status_dir/$1 and its exit status to $status_dir/$1.status.
run_kernel() {
  local k=$1 start seconds status=0 out counts=""
  start=$(date +%s)
  out=$(mktemp -d "$vm_cache/out.XXXXXX")
  vm_log "kernel $k: preparing"
  if BPF_TS_VM_KERNEL=$k bash "$vm_here/prepare.sh"; then
    vm_log "kernel $k: running the VM suites"
    BPF_TS_VM_KERNEL=$k bash "$vm_here/run.sh" --timeout "${BPF_TS_VM_TEST_TIMEOUT:-3600}" \
      --cwd "$vm_repo" --out "$out" -- \
      node_modules/.bin/vitest run --config tools/vm/vitest.config.ts \
      --reporter=default --reporter=json --outputFile.json=/run/bpfts-vm/out/vitest.json "$@" \
      || status=$?
  else
    status=$?
  fi
  seconds=$(($(date +%s) - start))
  if [ -s "$out/vitest.json" ]; then
    # Record when and for how long this kernel ran beside vitest's own report.
    node -e '
      const fs = require("fs");
      const [file, kernel, seconds, status, jobs] = process.argv.slice(1);
      const r = JSON.parse(fs.readFileSync(file, "utf8"));
      r.bpfTsVm = { kernel, seconds: Number(seconds), status: Number(status), jobs: Number(jobs), finishedAt: new Date().toISOString() };
      fs.writeFileSync(file, JSON.stringify(r));
      console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
    ' "$out/vitest.json" "$k" "$seconds" "$status" "$jobs" > "$out/counts" 2>&1 && counts=$(cat "$out/counts")
    # Only a full run (no vitest filter) stands for the kernel in the README's table.
    if [ $# -eq 0 ]; then
      mv "$out/vitest.json" "$results/$k.json"
    else
      mv "$out/vitest.json" "$results/$k.partial.json"
    fi
  fi
  rm -rf "$out"
  if [ "$status" = 0 ]; then
    echo "vm: kernel $k: ok in ${seconds}s${counts:+ ($counts)}" > "$status_dir/$k"
  else
    echo "vm: kernel $k: FAILED (exit $status) in ${seconds}s${counts:+ ($counts)}" > "$status_dir/$k"
  fi
  echo "$status" > "$status_dir/$k.status"
}

# Each VM keeps about one host core busy (TCG), so on a machine with N cores up to N kernels run
# side by side (BPF_TS_VM_JOBS overrides it), the newest kernels first: they run the most tests.
jobs=${BPF_TS_VM_JOBS:-$(nproc)}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || vm_die_status=2 vm_die "BPF_TS_VM_JOBS: '$jobs' is not a positive number"
order=()
for ((i = ${#kernels[@]} - 1; i >= 0; i--)); do order+=("${kernels[$i]}"); done
for k in "${order[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  if [ "$jobs" = 1 ]; then
    run_kernel "$k" "$@"
  else
    { run_kernel "$k" "$@" 2>&1 | sed -u "s/^/[$k] /"; } &
  fi
done
wait

failed=0
for k in "${kernels[@]}"; do
  if [ -f "$status_dir/$k" ]; then cat "$status_dir/$k" >&2; else echo "vm: kernel $k: FAILED (no result)" >&2; fi
  [ "$(cat "$status_dir/$k.status" 2> /dev/null)" = 0 ] || failed=1
done
exit $failed
