#!/bin/sh
# PID 1 of the test VM (busybox sh inside the initramfs built by prepare.sh).
#
# It loads the virtio/9p/overlay modules, mounts the host's root file system (9p, read-only)
# under a tmpfs overlay so it is writable, prepares the usual kernel file systems, then runs
# the command that run.sh left in the "results" 9p share, chrooted into the host root.
# The command's stdout, stderr and exit status go back to the host through that share.
# Whatever happens, the VM powers off at the end so qemu exits.

export PATH=/bin
results=/results
results_mounted=
root=/newroot

log() { echo "vm-init: $*" > /dev/console; }

# Report an early failure where run.sh looks for it, then stop the VM.
fail() {
  log "$*"
  [ -n "$results_mounted" ] && echo "$*" > "$results/init-error"
  halt_vm
}

halt_vm() {
  sync
  poweroff -f
  # Without ACPI poweroff, fall back on a reboot (qemu runs with -no-reboot).
  reboot -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

for m in $(cat /modules/order); do
  insmod "/modules/$m.ko" || fail "cannot insmod $m"
done

mkdir -p "$results"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results "$results" \
  || fail "cannot mount the results share"
results_mounted=1
[ -f "$results/vm.conf" ] || fail "no vm.conf in the results share"
# vm.conf sets KVER (kernel release) and MODULES_DIR (host path of the depmod'ed modules).
. "$results/vm.conf"

mkdir -p /mnt/lower /mnt/rw "$root"
# The host root, read-only; cache=loose is safe because nothing changes it during the run.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro hostroot /mnt/lower \
  || fail "cannot mount the host root share"
mount -t tmpfs -o mode=0755 rw /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay "$root" \
  || fail "cannot mount the overlay root"

mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t devtmpfs devtmpfs "$root/dev"
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
mount -t tracefs tracefs "$root/sys/kernel/tracing"
mount -t debugfs debugfs "$root/sys/kernel/debug"
mount -t bpf bpf "$root/sys/fs/bpf"
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
# A fresh /run: `ip netns add` keeps its bind mounts in /run/netns.
mount -t tmpfs -o mode=0755 run "$root/run"
mkdir -p "$root/run/netns" "$root/run/bpfts-vm"

# The kernel package's modules, where modprobe inside the chroot looks for them.
mkdir -p "$root/lib/modules/$KVER"
mount --bind "$root$MODULES_DIR" "$root/lib/modules/$KVER" \
  || fail "cannot bind the modules from $MODULES_DIR"
# The kernel's own module requests (e.g. nftables asking for an expression) run
# /proc/sys/kernel/modprobe (/sbin/modprobe) from this initramfs, not from the chroot; the
# initramfs's /sbin/modprobe forwards them to the chroot's. Inside the chroot the same path is
# kmod's own modprobe, which is what iptables-legacy runs when it reads that file.

hostname bpfts-vm
ip link set lo up

# Files the command writes to /run/bpfts-vm/out reach the host (run.sh --out) through the share.
mkdir -p "$results/out" "$root/run/bpfts-vm/out"
mount --bind "$results/out" "$root/run/bpfts-vm/out" || fail "cannot bind the output directory"

cp "$results/cmd.sh" "$root/run/bpfts-vm/cmd.sh"
chroot "$root" /bin/bash /run/bpfts-vm/cmd.sh < /dev/null > "$results/stdout" 2> "$results/stderr"
echo $? > "$results/exit.tmp"
sync
mv "$results/exit.tmp" "$results/exit"
halt_vm
