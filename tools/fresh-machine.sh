#!/usr/bin/env bash
# Measures what a fresh machine goes through before `make test` reports: a clean clone of
# HEAD with an empty Go module cache, build cache and tools cache (all under one scratch
# directory, deleted afterwards unless KEEP=1). Prints the time to the first test result
# (lint + mock tests, before any tool is built) and to the end of `make test`.
# Usage: tools/fresh-machine.sh [make target]   (default: test)
# Needs the Go module proxy; takes most of an hour on 2 cores.
set -euo pipefail
target=${1:-test}
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
scratch=$(mktemp -d /tmp/llmserve-fresh.XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'chmod -R u+w "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
git clone -q "$repo" "$scratch/repo"
# CI clones with shared/ beside the repository: the CRDs come from there.
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$scratch/shared"
export GOMODCACHE=$scratch/gomod GOCACHE=$scratch/gocache LLMSERVE_TOOLS=$scratch/tools
export LLMSERVE_LAB_DIR=$scratch/lab
cd "$scratch/repo"
start=$SECONDS
first=""
# Stamp every line with the seconds since the start; note when the mock tests report.
make "$target" 2>&1 | while IFS= read -r line; do
  printf '[%5ds] %s\n' $((SECONDS - start)) "$line"
  if [ -z "$first" ] && [[ $line == ok*github.com/llmserve/llmserve/tests* ]]; then
    first=$((SECONDS - start))
    printf '[%5ds] fresh-machine: first test result (lint + mock tests) after %d s\n' "$first" "$first"
  fi
done
rc=${PIPESTATUS[0]}
printf 'fresh-machine: make %s exited %d after %d s (%d min)\n' "$target" "$rc" $((SECONDS - start)) $(((SECONDS - start) / 60))
exit "$rc"
