#!/usr/bin/env bash
# Boot two test VMs side by side, joined by one Ethernet link, and run the same command in both.
#
#   tools/vm/pair.sh [--timeout SECONDS] --out DIR -- CMD ARGS...
#
# The link is a qemu socket network over host loopback: VM "a" listens on 127.0.0.1:PORT (a free
# port), VM "b" connects to it; each VM has one virtio-net NIC (MACs 52:54:00:0b:f0:0a and
# ...:0b), whose driver the command loads (`modprobe virtio_net`) and addresses itself: nothing
# leaves the host. Inside, BPF_TS_VM_NODE is "a" or "b". Each VM runs with its own kernel and its
# own clocks. The command's output lines come back prefixed "[a] " and "[b] "; the files each VM
# writes to $BPF_TS_VM_OUT land in DIR/a and DIR/b.
#
# Exit status: 0 when the command succeeded in both VMs, else the first failing one's.
#
# Environment: as run.sh (BPF_TS_VM_KERNEL, default 6.12 here; BPF_TS_VM_MEM, BPF_TS_VM_SMP
# default 1 here: the two VMs share the host's cores).
set -euo pipefail
export BPF_TS_VM_KERNEL=${BPF_TS_VM_KERNEL:-6.12}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: $(basename "$0") [--timeout SECONDS] --out DIR -- CMD [ARGS...]" >&2
  exit 2
}
timeout_s=300
out_dir=
while [ $# -gt 0 ]; do
  case $1 in
    --timeout)
      [ $# -ge 2 ] || usage
      [[ $2 =~ ^[1-9][0-9]*$ ]] || vm_die_status=2 vm_die "--timeout takes a whole number of seconds, not '$2'"
      timeout_s=$2
      shift 2
      ;;
    --out)
      [ $# -ge 2 ] || usage
      mkdir -p "$2/a" "$2/b" && out_dir=$(cd "$2" && pwd) || vm_die_status=2 vm_die "--out: cannot create directory '$2'"
      shift 2
      ;;
    --) shift; break ;;
    -h | --help) usage ;;
    *) echo "$(basename "$0"): unknown option '$1' (the command goes after --)" >&2; usage ;;
  esac
done
[ $# -gt 0 ] && [ -n "$out_dir" ] || usage

bash "$vm_here/prepare.sh" --no-btf

# A free loopback port for the link (the kernel picks it; qemu takes it a moment later).
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export BPF_TS_VM_SMP=${BPF_TS_VM_SMP:-1}
pids=()
# Stops a process and its descendants, children first (run.sh's own trap then stops its qemu).
kill_tree() {
  local c
  for c in $(pgrep -P "$1"); do kill_tree "$c"; done
  kill -TERM "$1" 2> /dev/null || true
}
cleanup() {
  for p in "${pids[@]}"; do kill_tree "$p"; done
  wait 2> /dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

status_dir=$(mktemp -d)
vm() {
  local node=$1 netdev=$2 mac=$3
  shift 3
  {
    BPF_TS_VM_NETDEV=$netdev BPF_TS_VM_MAC=$mac bash "$vm_here/run.sh" --timeout "$timeout_s" \
      --env "BPF_TS_VM_NODE=$node" --out "$out_dir/$node" -- "$@" \
      && echo 0 > "$status_dir/$node" || echo $? > "$status_dir/$node"
  } 2>&1 | sed -u "s/^/[$node] /"
}

vm a "socket,listen=127.0.0.1:$port" 52:54:00:0b:f0:0a "$@" &
pids+=($!)
# b connects once a's qemu listens (a connection made to test it would be taken as the peer).
for _ in $(seq 1 300); do
  ss -Hltn "sport = :$port" | grep -q . && break
  sleep 0.1
done
ss -Hltn "sport = :$port" | grep -q . || vm_die "VM a's qemu never listened on 127.0.0.1:$port"
vm b "socket,connect=127.0.0.1:$port" 52:54:00:0b:f0:0b "$@" &
pids+=($!)
wait "${pids[@]}" || true
pids=()

status=0
for n in a b; do
  s=$(cat "$status_dir/$n" 2> /dev/null || echo 125)
  [ "$s" = 0 ] || { echo "vm pair: VM $n failed (exit $s)" >&2; [ $status != 0 ] || status=$s; }
done
rm -rf "$status_dir"
exit $status
