#!/usr/bin/env bash
# Collect each node's pwru stream from the DaemonSet's pods into DIR/<node>.json, following the
# logs until Ctrl-C (or, with --once, what they hold now). Join them with:
#   pwru timeline DIR/*.json             (or, while collecting: pwru timeline --follow DIR/*.json)
#
#   deploy/k8s/collect.sh [--namespace NS] [--selector LABELS] [--once] DIR
set -euo pipefail
ns=pwru
selector=app.kubernetes.io/name=pwru
follow=(-f)
usage() {
  echo "usage: $(basename "$0") [--namespace NS] [--selector LABELS] [--once] DIR" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --namespace) [ $# -ge 2 ] || usage; ns=$2; shift 2 ;;
    --selector) [ $# -ge 2 ] || usage; selector=$2; shift 2 ;;
    --once) follow=(); shift ;;
    -h | --help) usage ;;
    -*) echo "$(basename "$0"): unknown option '$1'" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || usage
dir=$1
mkdir -p "$dir"

pods=$(kubectl get pods -n "$ns" -l "$selector" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}')
[ -n "$pods" ] || { echo "$(basename "$0"): no pwru pods in namespace $ns (selector $selector): apply deploy/k8s/pwru-daemonset.yaml and label the nodes" >&2; exit 1; }
pids=()
trap 'kill "${pids[@]}" 2> /dev/null || true' EXIT INT TERM
while read -r pod node; do
  [ -n "$pod" ] || continue
  # The stream names its node (pwru_clock); the file name does too.
  kubectl logs -n "$ns" "${follow[@]}" "$pod" > "$dir/$node.json" &
  pids+=($!)
  echo "collecting $pod ($node) into $dir/$node.json" >&2
done <<< "$pods"
wait
