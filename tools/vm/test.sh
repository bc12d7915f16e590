#!/usr/bin/env bash
# Run every *.vm.test.ts (packages/*/src, packages/*/test and tools/vm) inside one boot of the
# kprobe-capable test VM, with tools/vm/vitest.config.ts. Exits with vitest's status (0 when there
# are no VM tests).
#
#   tools/vm/test.sh [VITEST ARGS...]     e.g. tools/vm/test.sh packages/loader
#
# The packages are built on the host first (turbo; cached builds are instant) because tests import
# each other's dist/. Set BPF_TS_VM_NO_BUILD=1 to skip that. BPF_TS_VM_TEST_TIMEOUT bounds the
# whole VM run in seconds (default 3600).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$vm_here/prepare.sh"
cd "$vm_repo"
if [ "${BPF_TS_VM_NO_BUILD:-0}" != 1 ]; then
  vm_log "building the packages on the host"
  npx turbo run build --output-logs=errors-only
fi
exec bash "$vm_here/run.sh" --timeout "${BPF_TS_VM_TEST_TIMEOUT:-3600}" --cwd "$vm_repo" -- \
  node_modules/.bin/vitest run --config tools/vm/vitest.config.ts "$@"
