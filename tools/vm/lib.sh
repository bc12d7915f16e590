# Shared settings of the test VM scripts (sourced by prepare.sh, run.sh and test.sh).
# Every path is derived from this file's location, so a fresh clone anywhere works.

vm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_repo=$(cd "$vm_here/../.." && pwd)
# Everything downloaded or built lives here (gitignored).
vm_cache=${BPF_TS_VM_CACHE:-$vm_repo/.vm-cache}
# The downloaded kernel packages (and the private apt lists that found them), shared by every
# clone on this machine, so a fresh clone (CI's) does not fetch the kernels again.
if [ -n "${BPF_TS_VM_DOWNLOADS:-}" ]; then
  vm_downloads=$BPF_TS_VM_DOWNLOADS
elif [ "$(id -u)" = 0 ]; then
  vm_downloads=/var/cache/bpf-ts/vm-kernels
else
  vm_downloads=${XDG_CACHE_HOME:-$HOME/.cache}/bpf-ts/vm-kernels
fi
# The kernel matrix: major.minor → Debian package and the suite that carries it. tests run on
# every kernel listed in vm_kernels, in this order; BPF_TS_VM_KERNEL picks the one run.sh,
# prepare.sh and extract-btf.sh use (default 6.1).
vm_kernels=(5.10 6.1 6.12)

# Print "<package> <suite>" for kernel short name $1 (5.10, 6.1, 6.12); fail for others.
vm_kernel_spec() {
  case $1 in
    5.10) echo "linux-image-5.10.0-32-amd64-unsigned bullseye" ;;
    6.1) echo "linux-image-6.1.0-50-amd64-unsigned bookworm" ;;
    6.12) echo "linux-image-6.12.95+deb12-amd64-unsigned bookworm-backports" ;;
    *) return 1 ;;
  esac
}

vm_kernel_short=${BPF_TS_VM_KERNEL:-6.1}
if ! vm_spec=$(vm_kernel_spec "$vm_kernel_short"); then
  echo "$(basename "$0"): BPF_TS_VM_KERNEL='$vm_kernel_short' is not one of: ${vm_kernels[*]}" >&2
  exit 2
fi
# The Debian kernel package (BPF_TS_VM_KERNEL_PKG overrides it) and its suite.
vm_kernel_pkg=${BPF_TS_VM_KERNEL_PKG:-${vm_spec% *}}
vm_kernel_suite=${vm_spec#* }
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
