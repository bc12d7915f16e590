#!/usr/bin/env bash
# Save the test VM kernel's BTF as raw files for fixtures and offline tools:
#   .vm-cache/btf/vmlinux-<major.minor>.btf            /sys/kernel/btf/vmlinux (base BTF)
#   .vm-cache/btf/<module>-<major.minor>.btf           /sys/kernel/btf/<module> (split BTF on vmlinux)
# for the modules nf_tables and veth (override with BPF_TS_VM_BTF_MODULES="mod1 mod2") where the
# kernel has module BTF (5.11+; 5.10 has only vmlinux's). .extracted-<major.minor> marks it done.
# Boots the VM once; does nothing when the files already exist (pass --force to redo).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

modules=${BPF_TS_VM_BTF_MODULES:-nf_tables veth}
short=$(echo "$vm_kver" | cut -d. -f1,2)
out=$vm_cache/btf
names=(vmlinux $modules)

if [ "${1:-}" != --force ] && [ -s "$out/vmlinux-$short.btf" ] && [ -f "$out/.extracted-$short" ]; then
  exit 0
fi

mkdir -p "$out"
tmp=$(mktemp -d "$vm_cache/btf.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
vm_log "extracting BTF (${names[*]}) from the $vm_kver VM"
# One boot: load the modules, copy the sysfs files that exist (tar misreads their short reads),
# print their checksums on stderr and a tar of them on stdout.
BPF_TS_VM_QUIET=1 bash "$vm_here/run.sh" --timeout 300 --cwd / -- bash -c \
  'modprobe -a "$@" && d=$(mktemp -d) && cd "$d" && for f in vmlinux "$@"; do [ ! -e "/sys/kernel/btf/$f" ] || cat "/sys/kernel/btf/$f" > "$f"; done && sha256sum * >&2 && tar -c *' \
  extract $modules > "$tmp/btf.tar" 2> "$tmp/sums" \
  || vm_die "the VM could not extract the BTF: $(cat "$tmp/sums")"
tar -x -C "$tmp" -f "$tmp/btf.tar"
(cd "$tmp" && sha256sum --quiet -c sums) || vm_die "BTF read back from the VM does not match its checksums"
[ -s "$tmp/vmlinux" ] || vm_die "the $vm_kver VM has no /sys/kernel/btf/vmlinux"
written=()
for n in "${names[@]}"; do
  if [ -f "$tmp/$n" ]; then
    mv "$tmp/$n" "$out/$n-$short.btf"
    written+=("$n-$short.btf")
  fi
done
touch "$out/.extracted-$short"
vm_log "wrote ${written[*]} to $out (modules without BTF on this kernel are left out)"
