#!/usr/bin/env bash
# Prepare a test VM kernel (BPF_TS_VM_KERNEL: 5.10, 6.1 or 6.12): download and unpack Debian's
# kernel package into .vm-cache through a private apt configuration, run depmod on its modules and build a busybox initramfs whose /init is tools/vm/init.sh.
#
#   tools/vm/prepare.sh [--no-btf]
#
# Then, unless --no-btf, extract-btf.sh saves the VM kernel's BTF (one boot, the first time).
# Idempotent: everything is cached under <repo>/.vm-cache and rebuilt only when missing or when
# an input (init.sh, the module list, this script) changed. Safe to run concurrently (flock).
# run.sh calls `prepare.sh --no-btf` before every boot, so a changed init.sh is always picked up.
#
# Environment:
#   BPF_TS_VM_KERNEL      kernel of the matrix: 5.10, 6.1 (default) or 6.12 (lib.sh's table)
#   BPF_TS_VM_KERNEL_PKG  kernel package (default: the one lib.sh lists for BPF_TS_VM_KERNEL)
#   BPF_TS_VM_APT_MIRROR  Debian mirror (default: the first …/debian URI in /etc/apt)
#   BPF_TS_VM_KERNEL_DEB  use this already-downloaded .deb instead of `apt-get download`
#   BPF_TS_VM_CACHE       cache directory (default <repo>/.vm-cache)
#   BPF_TS_VM_DOWNLOADS   where the downloaded .debs and private apt lists are kept for every clone
#                         on the machine (default /var/cache/bpf-ts/vm-kernels as root, else
#                         ~/.cache/bpf-ts/vm-kernels)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Modules the initramfs loads, in dependency order (virtio transport, 9p, overlay). Those a
# kernel builds in (modules.builtin) are skipped. A trailing "?" marks modules some kernels of the
# matrix do not have at all: netfs and the split-out virtio_pci_*_dev are newer than 5.10, and
# 6.12 folds fscache into netfs.
initramfs_modules=(
  virtio virtio_ring virtio_pci_modern_dev? virtio_pci_legacy_dev? virtio_pci
  netfs? fscache? 9pnet 9pnet_virtio 9p overlay
)

check_tools() {
  local missing=()
  command -v qemu-system-x86_64 > /dev/null || missing+=(qemu-system-x86)
  command -v busybox > /dev/null || missing+=(busybox-static)
  command -v depmod > /dev/null || missing+=(kmod)
  command -v cpio > /dev/null || missing+=(cpio)
  command -v xz > /dev/null || missing+=(xz-utils)
  command -v dpkg-deb > /dev/null || missing+=(dpkg)
  command -v flock > /dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    vm_die "missing tools; install them with: apt-get install -y ${missing[*]}"
  fi
  # The initramfs has no libc: busybox must be the static build.
  if ! file_is_static "$(command -v busybox)"; then
    vm_die "busybox is not statically linked; install it with: apt-get install -y busybox-static"
  fi
}

# True when the ELF64 file $1 has no PT_INTERP program header (no dynamic loader).
file_is_static() {
  local phoff phentsize phnum i type
  phoff=$(od -An -t u8 -j 32 -N 8 "$1" | tr -d ' ')
  phentsize=$(od -An -t u2 -j 54 -N 2 "$1" | tr -d ' ')
  phnum=$(od -An -t u2 -j 56 -N 2 "$1" | tr -d ' ')
  for ((i = 0; i < phnum; i++)); do
    type=$(od -An -t u4 -j $((phoff + i * phentsize)) -N 4 "$1" | tr -d ' ')
    [ "$type" != 3 ] || return 1
  done
}

# The Debian archive this machine's apt already uses (its first "…/debian" URI in
# /etc/apt/sources.list or sources.list.d), or BPF_TS_VM_APT_MIRROR when set.
debian_mirror() {
  if [ -n "${BPF_TS_VM_APT_MIRROR:-}" ]; then
    echo "$BPF_TS_VM_APT_MIRROR"
    return
  fi
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 1
  # deb822 "URIs: a b" lines and one-line "deb [opts] URI suite ..." entries.
  awk '
    /^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) print $i }
    /^[[:space:]]*deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }
  ' "${files[@]}" | sed 's:/*$::' | grep -E '/debian$' | head -n1
}

# apt-get download $vm_kernel_pkg into directory $1 through a private apt configuration under
# $vm_downloads/apt/<suite> (its own sources list, package lists and cache), so the host's
# /etc/apt is neither read for packages nor changed. The lists are fetched once and reused.
private_apt_download() {
  local dest=$1 mirror dir
  mirror=$(debian_mirror) || true
  [ -n "$mirror" ] || vm_die "cannot find a Debian mirror in /etc/apt/sources.list(.d); set BPF_TS_VM_APT_MIRROR (e.g. http://deb.debian.org/debian)"
  dir=$vm_downloads/apt/$vm_kernel_suite
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $vm_kernel_suite main" > "$dir/sources.list"
  # As root apt would drop to its sandbox user, which cannot write here: stay the current user.
  local opts=(
    -q -o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "APT::Sandbox::User=$(id -un)"
  )
  if ! (cd "$dest" && apt-get "${opts[@]}" download "$vm_kernel_pkg") > /dev/null 2>&1; then
    apt-get "${opts[@]}" update > "$dir/update.log" 2>&1 \
      || vm_die "apt-get update of $mirror $vm_kernel_suite failed (see $dir/update.log); or set BPF_TS_VM_KERNEL_DEB to a downloaded .deb"
    (cd "$dest" && apt-get "${opts[@]}" download "$vm_kernel_pkg") \
      || vm_die "apt-get download $vm_kernel_pkg from $mirror $vm_kernel_suite failed; or set BPF_TS_VM_KERNEL_DEB to a downloaded .deb"
  fi
}

# Fetch the kernel .deb (or take BPF_TS_VM_KERNEL_DEB) and unpack it into $vm_kernel_dir.
prepare_kernel() {
  if [ -f "$vm_kernel_dir/.ready" ]; then
    return
  fi
  local deb=${BPF_TS_VM_KERNEL_DEB:-}
  if [ -z "$deb" ]; then
    mkdir -p "$vm_downloads/debs"
    deb=$(ls "$vm_downloads/debs/${vm_kernel_pkg}_"*.deb 2> /dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
      vm_log "downloading $vm_kernel_pkg from Debian's $vm_kernel_suite suite"
      # Into a scratch directory first, so an interrupted download never looks complete.
      local partial
      partial=$(mktemp -d "$vm_downloads/debs/partial.XXXXXX")
      private_apt_download "$partial"
      mv "$partial/"*.deb "$vm_downloads/debs/"
      rmdir "$partial"
      deb=$(ls "$vm_downloads/debs/${vm_kernel_pkg}_"*.deb | head -n1)
    fi
  fi
  [ -f "$deb" ] || vm_die "kernel package $deb does not exist"

  vm_log "unpacking $(basename "$deb")"
  local tmp=$vm_kernel_dir.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp"
  dpkg-deb -x "$deb" "$tmp"
  [ -f "$tmp/boot/vmlinuz-$vm_kver" ] || vm_die "$deb has no boot/vmlinuz-$vm_kver"
  [ -d "$tmp/lib/modules/$vm_kver" ] || vm_die "$deb has no lib/modules/$vm_kver"
  depmod -b "$tmp" "$vm_kver"
  touch "$tmp/.ready"
  rm -rf "$vm_kernel_dir"
  mv "$tmp" "$vm_kernel_dir"
  vm_log "kernel ready in $vm_kernel_dir"
}

# Path of a module in the unpacked package, whatever its compression; empty when absent.
module_file() {
  find "$vm_modules_dir/kernel" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" -o -name "$1.ko.gz" \
    | head -n1
}

# Copy a module into the initramfs uncompressed (busybox insmod reads plain .ko only).
stage_module() {
  local name=$1 src=$2 dest=$3/$1.ko
  case $src in
    *.ko) cp "$src" "$dest" ;;
    *.ko.xz) xz -dc "$src" > "$dest" ;;
    *.ko.zst) zstd -qdc "$src" > "$dest" ;;
    *.ko.gz) gzip -dc "$src" > "$dest" ;;
    *) vm_die "unsupported module file $src" ;;
  esac
}

# Build the initramfs: static busybox with its applet links, /init, the modules to insmod and
# /sbin/modprobe (the kernel's module-request helper, forwarded into the chroot).
prepare_initramfs() {
  local busybox
  busybox=$(command -v busybox)
  local inputs
  inputs=$( (cat "$vm_here/init.sh" "$vm_here/prepare.sh"; echo "${initramfs_modules[*]}"; sha256sum "$busybox") | sha256sum | cut -d' ' -f1)
  if [ -f "$vm_initramfs" ] && [ "$(cat "$vm_initramfs.inputs" 2> /dev/null)" = "$inputs" ]; then
    return
  fi
  vm_log "building the initramfs"
  local stage
  stage=$(mktemp -d "$vm_cache/initramfs.XXXXXX")
  mkdir -p "$stage"/{bin,sbin,dev,proc,sys,modules,results,newroot,mnt}
  cp "$busybox" "$stage/bin/busybox"
  local applet
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
  done
  install -m 0755 "$vm_here/init.sh" "$stage/init"
  printf '#!/bin/sh\nexec /bin/chroot /newroot /sbin/modprobe "$@"\n' > "$stage/sbin/modprobe"
  chmod 0755 "$stage/sbin/modprobe"

  local m src
  : > "$stage/modules/order"
  local optional
  for m in "${initramfs_modules[@]}"; do
    optional=0
    case $m in *\?) optional=1 m=${m%\?} ;; esac
    src=$(module_file "$m")
    if [ -z "$src" ]; then
      # Built into this kernel (or, for an optional one, not part of it): nothing to load.
      grep -q "/$m.ko\$" "$vm_modules_dir/modules.builtin" || [ $optional = 1 ] \
        || vm_die "module $m is neither in $vm_kernel_pkg nor built in"
      continue
    fi
    stage_module "$m" "$src" "$stage/modules"
    echo "$m" >> "$stage/modules/order"
  done

  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --owner=0:0) \
    | gzip -1 > "$vm_initramfs.tmp"
  rm -rf "$stage"
  mv "$vm_initramfs.tmp" "$vm_initramfs"
  echo "$inputs" > "$vm_initramfs.inputs"
  vm_log "initramfs ready: $vm_initramfs"
}

with_btf=1
case ${1:-} in
  --no-btf) with_btf=0 ;;
  "") ;;
  *) vm_die_status=2 vm_die "unknown argument '$1' (usage: prepare.sh [--no-btf])" ;;
esac

check_tools
mkdir -p "$vm_cache"
exec 9> "$vm_cache/.lock"
flock 9
prepare_kernel
prepare_initramfs
# Release the lock before booting: extract-btf.sh boots through run.sh, which runs this script.
exec 9>&-

if [ $with_btf = 1 ]; then
  # The VM kernel's BTF as raw files, for fixtures (boots the VM once, then cached).
  bash "$vm_here/extract-btf.sh"
fi
