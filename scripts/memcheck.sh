#!/usr/bin/env bash
# Peak memory (max RSS) of `wxsec import` and `wxsec normalise` over 1,000 and 3,000 inputs, to
# show it stays flat as the count grows. Reads ../shared/corpus (or $WXSEC_CORPUS) in place; the
# inputs are the corpus pages and records named again and again.
# usage: scripts/memcheck.sh        (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${WXSEC_CORPUS:-../shared/corpus}"
cargo build --release --quiet
bin=target/release/wxsec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pages=()
for f in "$corpus"/html/*.html; do
    case "$(basename "$f")" in article-*|picture-*|text-*|share-*|video-*) pages+=("$f") ;; esac
done
records=()
while IFS= read -r f; do records+=("$f"); done < <(find "$corpus/md" -name '*.md' | sort)

rss() { # command… → max RSS in MB
    /usr/bin/time -f '%M' "$@" 2>"$work/time" >/dev/null || true
    echo "$(( $(tail -1 "$work/time") / 1024 ))"
}

for n in 1000 3000; do
    targets=()
    while [ "${#targets[@]}" -lt "$n" ]; do targets+=("${pages[@]}"); done
    targets=("${targets[@]:0:$n}")
    mb=$(rss "$bin" import --out "$work/import-$n" "${targets[@]}")
    echo "import    $n inputs: max RSS $mb MB"

    mkdir -p "$work/md-$n"
    i=0
    while [ "$i" -lt "$n" ]; do
        for r in "${records[@]}"; do
            [ "$i" -ge "$n" ] && break
            cp "$r" "$work/md-$n/$i.md"
            i=$((i + 1))
        done
    done
    mb=$(rss "$bin" normalise --out "$work/norm-$n" "$work/md-$n")
    echo "normalise $n inputs: max RSS $mb MB"
done
