#!/usr/bin/env bash
# Runs the cargo-fuzz targets (fuzz/fuzz_targets) for SECONDS each with the WeChat dictionary
# (fuzz/wxsec.dict), seeded with small inputs: the project's hand-written fixture pages and
# records, the hostile inputs, and the shared corpus's records (its 3 MB pages would make each
# execution slow, so pages are the fixtures, which model every template). Uses the stable
# toolchain with RUSTC_BOOTSTRAP=1, since this machine has no nightly. A crash leaves its input in
# fuzz/artifacts/TARGET/ and fails the script: turn it into an ordinary test once fixed.
# usage: scripts/fuzz.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"; shift || true
targets=("$@"); [ "${#targets[@]}" -gt 0 ] || targets=(extract markdown normalise index query config)
corpus="${WXSEC_CORPUS:-../../shared/corpus}"
for t in extract markdown normalise index query config; do mkdir -p "corpus/$t"; done
cp -n ../fixtures/pages/*.html ../tests/hostile/bodies/*.html corpus/extract/ 2>/dev/null || true
cp -n ../fixtures/pages/*.html ../tests/hostile/bodies/*.html corpus/markdown/ 2>/dev/null || true
for t in normalise index; do
    find "$corpus/md" -name '*.md' -size -64k -exec cp -n {} "corpus/$t/" \; 2>/dev/null || true
    cp -n ../fixtures/records/* "corpus/$t/" 2>/dev/null || true
done
printf '漏洞' > corpus/query/cjk; printf 'CVE-2024 "a" OR b*' > corpus/query/fts
printf 'tomcat\0安全号\0CVE-2024-56337' > corpus/query/all; printf '%%_\\ 代码执行 NEAR(a b)' > corpus/query/like
cp ../examples/wxsec.toml corpus/config/example.toml
printf 'delay = 3\n[[source]]\nfeed = "https://example.com/a.atom"\n' > corpus/config/feed.toml
total=0
for t in "${targets[@]}"; do
    log="$(mktemp)"
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" "corpus/$t" -- -dict=wxsec.dict -max_total_time="$seconds" \
        -rss_limit_mb=2048 -max_len=262144 -timeout=20 >"$log" 2>&1 || true
    grep -E 'ERROR|panicked|SUMMARY' "$log" || true
    runs="$(grep -oE '^Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo 0)"
    total=$((total + runs))
    echo "fuzz: $t: $runs executions in ${seconds}s ($((runs / seconds))/s)"
    rm -f "$log"
    if ls "artifacts/$t"/crash-* "artifacts/$t"/oom-* "artifacts/$t"/timeout-* >/dev/null 2>&1; then
        echo "fuzz: $t found a failing input in fuzz/artifacts/$t" >&2
        exit 1
    fi
done
echo "fuzz: ${#targets[@]} targets, $total executions, no crash"
