#!/usr/bin/env bash
# The Debian packages the test suites use (tools/deps/apt-packages): checks which are missing and,
# as root, installs them with apt-get, saying so (running `apt-get update` first when the package
# lists are missing or older than a day). Runs as `npm test`'s pretest step, so the README's one
# test command works on a freshly booted machine. Not root: prints what is missing and the command
# that installs it, and lets the tests run (those that need a missing tool skip, saying why).
#
#   tools/deps/ensure-apt.sh [--check] [--list FILE]
#     --check      only report, exit 1 when something is missing
#     --list FILE  another package list (e.g. tools/deps/apt-packages-bench for npm run bench:vm)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
check=0
list=$here/apt-packages
while [ $# -gt 0 ]; do
  case $1 in
    --check) check=1 ;;
    --list) list=$2; shift ;;
    *) echo "ensure-apt: unknown argument $1 (expected --check or --list FILE)" >&2; exit 2 ;;
  esac
  shift
done
mapfile -t wanted < <(grep -v '^\s*\(#\|$\)' "$list")

if ! command -v dpkg-query > /dev/null; then
  echo "ensure-apt: not a Debian/Ubuntu system (no dpkg-query); install the equivalents of: ${wanted[*]}" >&2
  exit 0
fi
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0

if [ $check = 1 ]; then
  echo "ensure-apt: missing Debian packages: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-apt: the tests use Debian packages that are not installed: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]} (tests that need them will skip)" >&2
  exit 0
fi
echo "ensure-apt: installing the Debian packages the tests use: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may never have fetched the package lists; refresh them when older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2> /dev/null | head -n1)" ]; then
  apt-get update -qq || { echo "ensure-apt: apt-get update failed; check the machine's apt sources" >&2; exit 1; }
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null \
  || { echo "ensure-apt: apt-get install ${missing[*]} failed (see above)" >&2; exit 1; }
echo "ensure-apt: installed ${missing[*]}" >&2
