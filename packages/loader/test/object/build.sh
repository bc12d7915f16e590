#!/bin/sh
# Rebuilds the committed BPF objects of the object-loader tests from their C sources.
# Needs Debian's clang and libbpf-dev (bpf_helpers.h); the tests themselves only read the
# committed .bpf.o files. vmlinux.h is dumped from the running kernel's BTF by this project's
# own btf-dump (packages/btf) and is not committed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node "$root/packages/btf/dist/cli.js" /sys/kernel/btf/vmlinux --format c > "$tmp/vmlinux.h"
for src in "$here"/*.bpf.c; do
	obj="${src%.c}.o"
	clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I"$tmp" -c "$src" -o "$obj"
	llvm-strip -g "$obj" # DWARF only: .BTF and .BTF.ext stay
	echo "built $(basename "$obj")"
done
