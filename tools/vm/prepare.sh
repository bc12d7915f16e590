#!/usr/bin/env bash
# Prepare the kprobe-capable test VM: download and unpack Debian's 6.1 kernel package, run
# depmod on its modules and build a busybox initramfs whose /init is tools/vm/init.sh.
#
#   tools/vm/prepare.sh [--no-btf]
#
# Then, unless --no-btf, extract-btf.sh saves the VM kernel's BTF (one boot, the first time).
# Idempotent: everything is cached under <repo>/.vm-cache and rebuilt only when missing or when
# an input (init.sh, the module list, this script) changed. Safe to run concurrently (flock).
# run.sh calls `prepare.sh --no-btf` before every boot, so a changed init.sh is always picked up.
#
# Environment:
#   BPF_TS_VM_KERNEL_PKG  kernel package (default linux-image-6.1.0-50-amd64-unsigned)
#   BPF_TS_VM_KERNEL_DEB  use this already-downloaded .deb instead of `apt-get download`
#   BPF_TS_VM_CACHE       cache directory (default <repo>/.vm-cache)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Modules the initramfs loads, in dependency order (virtio transport, 9p, overlay).
initramfs_modules=(
  virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
  netfs fscache 9pnet 9pnet_virtio 9p overlay
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

# Fetch the kernel .deb (or take BPF_TS_VM_KERNEL_DEB) and unpack it into $vm_kernel_dir.
prepare_kernel() {
  if [ -f "$vm_kernel_dir/.ready" ]; then
    return
  fi
  local deb=${BPF_TS_VM_KERNEL_DEB:-}
  if [ -z "$deb" ]; then
    mkdir -p "$vm_cache/download"
    deb=$(ls "$vm_cache/download/${vm_kernel_pkg}_"*.deb 2> /dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
      vm_log "downloading $vm_kernel_pkg"
      # Into a scratch directory first, so an interrupted download never looks complete. As root,
      # apt would warn that its sandbox user cannot write there: download as the current user.
      local partial=$vm_cache/download/partial
      rm -rf "$partial"
      mkdir -p "$partial"
      (cd "$partial" && apt-get -q -o APT::Sandbox::User="$(id -un)" download "$vm_kernel_pkg") \
        || vm_die "apt-get download $vm_kernel_pkg failed; run 'apt-get update' first, or set BPF_TS_VM_KERNEL_DEB to a downloaded .deb"
      mv "$partial/"*.deb "$vm_cache/download/"
      rmdir "$partial"
      deb=$(ls "$vm_cache/download/${vm_kernel_pkg}_"*.deb | head -n1)
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
  for m in "${initramfs_modules[@]}"; do
    src=$(module_file "$m")
    if [ -z "$src" ]; then
      # Built into this kernel: nothing to load.
      grep -q "/$m.ko" "$vm_modules_dir/modules.builtin" \
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
