# Shared settings of the test VM scripts (sourced by prepare.sh, run.sh and test.sh).
# Every path is derived from this file's location, so a fresh clone anywhere works.

vm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_repo=$(cd "$vm_here/../.." && pwd)
# Everything downloaded or built lives here (gitignored).
vm_cache=${BPF_TS_VM_CACHE:-$vm_repo/.vm-cache}
# The Debian kernel package that provides kprobes, kretprobes and fentry/fexit.
vm_kernel_pkg=${BPF_TS_VM_KERNEL_PKG:-linux-image-6.1.0-50-amd64-unsigned}
vm_kver=${vm_kernel_pkg#linux-image-}
vm_kver=${vm_kver%-unsigned}
# The unpacked kernel package (boot/vmlinuz-*, lib/modules/<kver>/ with depmod output).
vm_kernel_dir=$vm_cache/kernel/$vm_kver
vm_vmlinuz=$vm_kernel_dir/boot/vmlinuz-$vm_kver
vm_modules_dir=$vm_kernel_dir/lib/modules/$vm_kver
vm_initramfs=$vm_cache/initramfs-$vm_kver.cpio.gz

# Print a one-line error prefixed with the script name and exit.
vm_die() {
  echo "$(basename "$0"): $*" >&2
  exit "${vm_die_status:-1}"
}

# Print a progress line to stderr (silenced by BPF_TS_VM_QUIET=1).
vm_log() {
  [ "${BPF_TS_VM_QUIET:-0}" = 1 ] || echo "vm: $*" >&2
}
