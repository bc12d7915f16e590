#!/bin/sh
# The container's entry point: one node's pwru stream for `pwru timeline`.
# It prints the node's clock reference (wall clock <-> the monotonic clock of --timestamp
# current) and the pods of its network namespaces, then runs pwru with JSON events, passing
# every argument through (flags, then the pcap filter). NODE_NAME names the node (the
# DaemonSet sets it from spec.nodeName).
set -e
case "${1:-}" in
  -h | --help | --version) exec pwru "$@" ;;
esac
pwru timeline clock --node "${NODE_NAME:-$(hostname)}"
pwru timeline pods --node "${NODE_NAME:-$(hostname)}" --root "${PWRU_HOST_ROOT:-/}"
exec pwru --output-json --timestamp current "$@"
