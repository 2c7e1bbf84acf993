#!/usr/bin/env bash
# Every figure of BENCHMARKS.md in one run: wxsec's throughput and stages, the peer extractors on
# the same pages, state bookkeeping with a million rows, peak memory.
# usage: scripts/bench-all.sh   (needs ../shared/bench/setup.sh run once for the peers)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${WXSEC_CORPUS:-../shared/corpus}"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(rustc --version)"
cargo bench --quiet --bench throughput 2>/dev/null | grep -E '^(import|normalise)'
pages=()
for f in "$corpus"/html/*.html; do
    case "$(basename "$f")" in article-*|picture-*|text-*|share-*|video-*) pages+=("$f") ;; esac
done
if [ -x ../shared/bench/.venv/bin/python ]; then
    ../shared/bench/.venv/bin/python ../shared/bench/peers.py --repeat 2 "${pages[@]}"
else
    echo "peers: run ../shared/bench/setup.sh first"
fi
cargo bench --quiet --bench state 2>/dev/null | grep -E '^(state|per article)'
cargo bench --quiet --bench index 2>/dev/null | grep -E '^(entries|index|search)'
scripts/memcheck.sh
cargo bench --quiet --bench stages 2>/dev/null | grep -vE '^\s*$'
