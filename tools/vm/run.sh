#!/usr/bin/env bash
# Run one command as root inside the kprobe-capable test VM (Debian 6.1 kernel under qemu TCG)
# and exit with its exit status.
#
#   tools/vm/run.sh [--timeout SECONDS] [--cwd DIR] [--env NAME=VALUE]... [--out DIR] -- CMD ARGS...
#
# The VM sees the host's root file system read-only with a writable tmpfs overlay (writes are
# lost when it stops), so CMD, node and the repository are the host's own. CMD's stdout and
# stderr stream back as they are written; stdin is /dev/null. The VM has no network device:
# only loopback and whatever namespaces/veths the command creates (BPF_TS_VM_NETDEV adds one). Inside, BPF_TS_VM is set
# to the kernel's major.minor (e.g. 6.1), and BPF_TS_VM_OUT to a directory whose files are copied
# to the host's --out DIR when the VM stops (the only way back besides stdout and stderr).
#
# Exit status: CMD's; 124 on timeout; 125 when the VM itself failed (its console log is shown).
#
# Environment:
#   BPF_TS_VM_KERNEL     which kernel of the matrix boots: 5.10, 6.1 (default) or 6.12
#   BPF_TS_VM_MEM (default 2G), BPF_TS_VM_SMP (default 2)  VM size
#   BPF_TS_VM_APPEND     extra kernel command-line parameters
#   BPF_TS_TEST_*        passed through to the command inside (test switches)
#   BPF_TS_VM_CONSOLE=1  also copy the VM's kernel console to stderr when done
#   BPF_TS_VM_KEEP=1     keep the run directory (console.log, stdout, stderr) for debugging
#   BPF_TS_VM_NETDEV     give the VM one virtio-net NIC on this qemu -netdev backend instead of
#                        none, e.g. socket,listen=127.0.0.1:PORT (pair.sh joins two VMs so);
#                        the driver is a module: `modprobe virtio_net` inside
#   BPF_TS_VM_MAC        that NIC's MAC address (default qemu's 52:54:00:12:34:56)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $(basename "$0") [--timeout SECONDS] [--cwd DIR] [--env NAME=VALUE]... [--out DIR] -- CMD [ARGS...]" >&2
  exit 2
}

timeout_s=600
cwd=$PWD
extra_env=()
out_dir=
while [ $# -gt 0 ]; do
  case $1 in
    --timeout)
      [ $# -ge 2 ] || usage
      [[ $2 =~ ^[1-9][0-9]*$ ]] || vm_die_status=2 vm_die "--timeout takes a whole number of seconds, not '$2'"
      timeout_s=$2
      shift 2
      ;;
    --cwd)
      [ $# -ge 2 ] || usage
      cwd=$(cd "$2" 2> /dev/null && pwd) || vm_die_status=2 vm_die "--cwd: no such directory '$2'"
      shift 2
      ;;
    --env)
      [ $# -ge 2 ] || usage
      [[ $2 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || vm_die_status=2 vm_die "--env takes NAME=VALUE, not '$2'"
      extra_env+=("$2")
      shift 2
      ;;
    --out)
      [ $# -ge 2 ] || usage
      mkdir -p "$2" && out_dir=$(cd "$2" && pwd) || vm_die_status=2 vm_die "--out: cannot create directory '$2'"
      shift 2
      ;;
    --) shift; break ;;
    -h | --help) usage ;;
    *) echo "$(basename "$0"): unknown option '$1' (the command goes after --)" >&2; usage ;;
  esac
done
[ $# -gt 0 ] || usage

# Builds what is missing or stale (a changed init.sh); instant when everything is current.
bash "$vm_here/prepare.sh" --no-btf

rundir=$(mktemp -d "${TMPDIR:-/tmp}/bpfts-vm.XXXXXX")
qemu_pid=
tail_pids=()

# Always stop qemu and the relays, whatever ends this script.
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2> /dev/null; then
    kill -TERM "$qemu_pid" 2> /dev/null || true
    sleep 1
    kill -KILL "$qemu_pid" 2> /dev/null || true
  fi
  for p in "${tail_pids[@]}"; do
    kill "$p" 2> /dev/null || true
  done
  if [ "${BPF_TS_VM_KEEP:-0}" = 1 ]; then
    echo "vm: run directory kept: $rundir" >&2
  else
    rm -rf "$rundir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The host modules directory and kernel release, read by the VM's /init.
printf 'KVER=%q\nMODULES_DIR=%q\n' "$vm_kver" "$vm_modules_dir" > "$rundir/vm.conf"

stdout_is_tty=0
[ ! -t 1 ] || stdout_is_tty=1

# The command script, run by bash inside the chroot.
{
  echo 'set -e'
  vm_path="$PATH"
  case ":$vm_path:" in *:/usr/sbin:*) ;; *) vm_path="$vm_path:/usr/sbin" ;; esac
  case ":$vm_path:" in *:/sbin:*) ;; *) vm_path="$vm_path:/sbin" ;; esac
  printf 'export PATH=%q\n' "$vm_path"
  printf 'export HOME=%q\n' "${HOME:-/root}"
  printf 'export BPF_TS_VM=%q\n' "$(echo "$vm_kver" | cut -d. -f1,2)"
  echo 'export BPF_TS_VM_OUT=/run/bpfts-vm/out'
  # Test switches (BPF_TS_TEST_*) reach the tests inside as they are set outside.
  for name in TERM LANG LC_ALL TZ CI NO_COLOR FORCE_COLOR NODE_OPTIONS $(compgen -v BPF_TS_TEST_ || true); do
    if [ -n "${!name+x}" ]; then
      printf 'export %s=%q\n' "$name" "${!name}"
    fi
  done
  # Keep colours when the host shows the output on a terminal.
  if [ $stdout_is_tty = 1 ] && [ -z "${FORCE_COLOR+x}" ] && [ -z "${NO_COLOR+x}" ]; then
    echo 'export FORCE_COLOR=1'
  fi
  for kv in "${extra_env[@]}"; do
    printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
  done
  printf 'cd %q\n' "$cwd"
  echo 'set +e'
  printf 'exec'
  printf ' %q' "$@"
  echo
} > "$rundir/cmd.sh"
: > "$rundir/stdout"
: > "$rundir/stderr"

nic=(-nic none)
if [ -n "${BPF_TS_VM_NETDEV:-}" ]; then
  nic=(-netdev "$BPF_TS_VM_NETDEV,id=n0" -device "virtio-net-pci,netdev=n0${BPF_TS_VM_MAC:+,mac=$BPF_TS_VM_MAC}")
fi

append="console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init ${BPF_TS_VM_APPEND:-}"
# `timeout` bounds the VM even if this script is killed with SIGKILL.
timeout --signal=TERM --kill-after=5 "$timeout_s" \
  qemu-system-x86_64 \
  -accel tcg -cpu max -m "${BPF_TS_VM_MEM:-2G}" -smp "${BPF_TS_VM_SMP:-2}" \
  -nographic -monitor none -serial "file:$rundir/console.log" -no-reboot \
  "${nic[@]}" \
  -kernel "$vm_vmlinuz" -initrd "$vm_initramfs" -append "$append" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
  -virtfs "local,path=$rundir,mount_tag=results,security_model=passthrough,multidevs=remap" \
  < /dev/null > "$rundir/qemu.out" 2>&1 &
qemu_pid=$!

# Relay the command's output while it runs; `--pid` makes tail read to the end once qemu is gone.
tail --pid="$qemu_pid" -s 0.2 -c +1 -f "$rundir/stdout" &
tail_pids+=($!)
tail --pid="$qemu_pid" -s 0.2 -c +1 -f "$rundir/stderr" >&2 &
tail_pids+=($!)

qemu_status=0
wait "$qemu_pid" || qemu_status=$?
qemu_pid=
for p in "${tail_pids[@]}"; do
  wait "$p" || true
done
tail_pids=()

if [ -n "$out_dir" ] && [ -d "$rundir/out" ]; then
  cp -r "$rundir/out/." "$out_dir/"
fi

if [ "${BPF_TS_VM_CONSOLE:-0}" = 1 ]; then
  cat "$rundir/console.log" >&2
fi

if [ -f "$rundir/exit" ]; then
  exit "$(cat "$rundir/exit")"
fi
if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
  echo "vm: timed out after ${timeout_s}s; stopped the VM" >&2
  exit 124
fi
{
  echo "vm: the VM stopped without the command's exit status (qemu exit $qemu_status)"
  [ ! -s "$rundir/init-error" ] || echo "vm: init: $(cat "$rundir/init-error")"
  [ ! -s "$rundir/qemu.out" ] || { echo "vm: qemu said:"; tail -n 20 "$rundir/qemu.out"; }
  echo "vm: last console lines (for all kernel messages rerun with BPF_TS_VM_APPEND=loglevel=7 BPF_TS_VM_CONSOLE=1):"
  tail -n 30 "$rundir/console.log" 2> /dev/null || true
} >&2
exit 125
