#!/usr/bin/env bash
# Proves the repository stands on its own: clones the committed HEAD into an empty temporary
# directory (nothing beside it: no ../shared, no node_modules, no .vm-cache), installs it with the
# committed lockfile (`npm ci`), and runs the pcap2ebpf suite there — the suite that once read its
# corpus from outside the repository. Also fails if any tracked file refers to ../shared.
#
#   tools/fresh-clone/check.sh            (npm run test:fresh-clone; .ci/run runs it)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Nothing in the repository may point outside it.
if refs=$(git -C "$repo" grep -n -E '\.\./shared|PCAP_CORPUS_DIR' -- ':!tools/fresh-clone/check.sh' ':!DEVELOPERS.md'); then
  echo "fresh-clone: these tracked files refer to material outside the repository:" >&2
  echo "$refs" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/fresh-clone.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "fresh-clone: cloning $(git -C "$repo" rev-parse --short HEAD) into the empty directory $dir" >&2
git clone -q --no-local "$repo" "$dir/repo"
cd "$dir/repo"
[ -z "$(ls -A "$dir" | grep -v '^repo$')" ] || { echo "fresh-clone: $dir is not empty beside the clone" >&2; exit 1; }
npm ci --no-fund --no-audit --loglevel=error > "$dir/npm-ci.log" 2>&1 || { cat "$dir/npm-ci.log" >&2; echo "fresh-clone: npm ci failed in the fresh clone" >&2; exit 1; }
cd packages/pcap2ebpf
npx vitest run
