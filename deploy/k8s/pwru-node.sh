#!/bin/sh
# The container's entry point: one node's pwru stream for `pwru timeline`.
# It prints the node's clock reference (wall clock <-> the monotonic clock of --timestamp
# current), then runs pwru with JSON events, passing every argument through (flags, then the
# pcap filter), through `pwru timeline pods --follow`: that prints the pods of the node's network
# namespaces first, and again whenever an event shows a namespace it has no pod for (a pod that
# started after pwru). NODE_NAME names the node (the DaemonSet sets it from spec.nodeName).
set -e
case "${1:-}" in
  -h | --help | --version) exec pwru "$@" ;;
esac
node=${NODE_NAME:-$(hostname)}
pwru timeline clock --node "$node"
fifo=$(mktemp -d)/events
mkfifo "$fifo"
pwru timeline pods --node "$node" --root "${PWRU_HOST_ROOT:-/}" --follow <"$fifo" &
pods=$!
pwru --output-json --timestamp current "$@" >"$fifo" &
pid=$!
# Stop pwru on the container's stop signal; the pods copy ends when pwru's output does.
trap 'kill -TERM "$pid" 2>/dev/null || :' INT TERM
set +e
wait "$pid"
status=$?
# A trapped signal interrupts wait: wait again for pwru's own exit status.
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid"
  status=$?
done
wait "$pods"
copied=$?
[ "$status" -ne 0 ] || status=$copied
rm -rf "$(dirname "$fifo")"
exit "$status"
