#!/usr/bin/env bash
# Runs the cargo-fuzz targets (fuzz/fuzz_targets) for SECONDS each, seeded with the shared corpus
# and the project's fixtures. Uses the stable toolchain with RUSTC_BOOTSTRAP=1, since this machine
# has no nightly. A crash leaves its input in fuzz/artifacts/TARGET/ and fails the script: turn it
# into an ordinary test (tests/fuzz_regressions.rs) once fixed.
# usage: scripts/fuzz.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"; shift || true
targets=("$@"); [ "${#targets[@]}" -gt 0 ] || targets=(extract markdown normalise)
corpus="${WXSEC_CORPUS:-../../shared/corpus}"
mkdir -p corpus/extract corpus/markdown corpus/normalise
cp -n "$corpus"/html/*.html ../fixtures/pages/*.html corpus/extract/ 2>/dev/null || true
cp -n ../fixtures/pages/*.html ../tests/hostile/bodies/*.html corpus/markdown/ 2>/dev/null || true
find "$corpus/md" -name '*.md' -exec cp -n {} corpus/normalise/ \; 2>/dev/null || true
cp -n ../fixtures/records/* corpus/normalise/ 2>/dev/null || true
for t in "${targets[@]}"; do
    echo "== $t: ${seconds}s"
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4000000 2>&1 \
        | grep -E '^#[0-9]+\s+(DONE|INITED)|Done [0-9]+ runs|ERROR|panicked|SUMMARY' || true
    if ls "artifacts/$t"/crash-* "artifacts/$t"/oom-* "artifacts/$t"/timeout-* >/dev/null 2>&1; then
        echo "fuzz: $t found a failing input in fuzz/artifacts/$t" >&2
        exit 1
    fi
done
