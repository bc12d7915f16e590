#!/usr/bin/env bash
# Specification checks of run.sh itself, from the host (two VM boots, about a minute):
# exit status passthrough, separate stdout/stderr, binary-safe stdout, --cwd, --env, the
# environment inside, the timeout, and that no qemu is left behind. Run it after changing run.sh,
# init.sh or prepare.sh:   tools/vm/check-run.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run=$vm_here/run.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
  else
    echo "FAIL $what"
    failures=$((failures + 1))
  fi
}

bash "$vm_here/prepare.sh"
# run.sh makes its run directories under TMPDIR: ours, so our qemu processes are recognisable.
mkdir "$tmp/runs"
export TMPDIR=$tmp/runs

# Boot 1: one command that exercises output, environment and status at once.
head -c 300000 /dev/urandom > "$tmp/blob"
status=0
"$run" --cwd "$tmp" --env 'CHECK_VALUE=two words $and quotes"' -- bash -c '
  cat blob
  echo "cwd=$PWD" >&2
  echo "vm=$BPF_TS_VM" >&2
  echo "value=$CHECK_VALUE" >&2
  echo "home=$HOME" >&2
  echo "kernel=$(uname -r)" >&2
  command -v node >&2
  exit 7' > "$tmp/stdout" 2> "$tmp/stderr" || status=$?

check "exits with the command's status" test "$status" = 7
check "stdout is byte-identical to what the command wrote" cmp -s "$tmp/blob" "$tmp/stdout"
check "stderr comes back separately" grep -qx "cwd=$tmp" "$tmp/stderr"
check "BPF_TS_VM names the kernel's major.minor" grep -qx "vm=$(echo "$vm_kver" | cut -d. -f1,2)" "$tmp/stderr"
check "--env passes values verbatim" grep -qxF 'value=two words $and quotes"' "$tmp/stderr"
check "HOME is the host's" grep -qx "home=${HOME:-/root}" "$tmp/stderr"
check "the command runs on the VM kernel" grep -qx "kernel=$vm_kver" "$tmp/stderr"
check "the host's node is on PATH" grep -qx "$(command -v node)" "$tmp/stderr"

# Boot 2: a command that outlives --timeout.
status=0
"$run" --timeout 30 -- sleep 600 > /dev/null 2> "$tmp/stderr" || status=$?
check "a command past --timeout ends with status 124" test "$status" = 124
check "and says so" grep -q 'timed out after 30s' "$tmp/stderr"

no_qemu_left() { ! pgrep -f "qemu-system-x86_64 .*$tmp/runs" > /dev/null; }
check "no qemu is left running" no_qemu_left

[ "$failures" = 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "all run.sh checks passed"
