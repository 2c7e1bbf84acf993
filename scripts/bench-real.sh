#!/usr/bin/env bash
# The targets of issue 14 on a real archive, for one wxsec binary: normalise without and with the
# index, the index's size against the records', a two-character search, `feed` with nothing
# changed, peak memory, and `import` of the largest corpus pages as whole processes beside the
# peers on the same pages. Every output goes below WORK (on the disk the archive is on, so the
# syncs are real).
#
# usage: scripts/bench-real.sh BIN ARCHIVE WORK [LABEL]
#   BIN      a wxsec binary (target/release/wxsec, or an older build to compare)
#   ARCHIVE  an exported archive folder (see BENCHMARKS.md for how to fetch and export picker)
#   WORK     an empty scratch folder; removed and made again
set -euo pipefail
bin=$(realpath "$1"); archive=$(realpath "$2"); work=$3; label=${4:-$(basename "$bin")}
corpus="${WXSEC_CORPUS:-$(dirname "$0")/../../shared/corpus}"
rm -rf "$work"; mkdir -p "$work"; work=$(realpath "$work")
t() { # label, command…: wall seconds and peak RSS of one command
    local what=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/.time" "$@" >"$work/.out" 2>"$work/.err" || { echo "$what failed:"; tail -3 "$work/.err"; }
    read -r secs kb <"$work/.time"
    printf '%-44s %8.2f s  %6d MB peak\n' "$label $what" "$secs" $((kb / 1024))
}
files=$(find "$archive" -type f | wc -l)
echo "# $label on $(basename "$archive") ($files files), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
sync
t "normalise --no-index --out" "$bin" normalise --no-index --out "$work/noindex" "$archive"
tail -1 "$work/.err"
sync
t "normalise --out (index kept)" "$bin" normalise --out "$work/index" "$archive"
records=$(find "$work/index" -path "$work/index/.wxsec" -prune -o -type f -name '*.md' -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
state=$(du -cb "$work/index/.wxsec/"state.sqlite* | tail -1 | cut -f1)
awk -v r="$records" -v s="$state" -v l="$label" 'BEGIN { printf "%-44s records %.0f MB, state file %.0f MB: %.2f× the records\n", l " index size", r/1e6, s/1e6, s/r }'
t "normalise --out again (nothing changed)" "$bin" normalise --out "$work/index" "$archive"
if [ -w /proc/sys/vm/drop_caches ]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
t "search 漏洞 (cold)" "$bin" search --out "$work/index" 漏洞
t "search 漏洞 (warm)" "$bin" search --out "$work/index" 漏洞
grep -c . "$work/.out" | xargs printf '%-44s %s lines of hits\n' "$label search 漏洞"
t "search 远程代码执行 (warm)" "$bin" search --out "$work/index" 远程代码执行
t "search Tomcat 漏洞 (warm)" "$bin" search --out "$work/index" Tomcat 漏洞
t "feed (first)" "$bin" feed --out "$work/index"
t "feed (nothing changed)" "$bin" feed --out "$work/index"
# The twelve largest article pages of the corpus, each a whole `import` process.
mapfile -t pages < <(ls -S "$corpus"/html/{article,share,text,picture,video}-*.html 2>/dev/null | head -12)
start=$(date +%s.%N)
for p in "${pages[@]}"; do "$bin" import --out "$work/import" "$p" >/dev/null 2>&1; done
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" -v n="${#pages[@]}" -v l="$label" 'BEGIN { printf "%-44s %d pages in %.3f s: %.1f pages/s (one process each)\n", l " import, largest pages", n, b-a, n/(b-a) }'
start=$(date +%s.%N)
"$bin" import --out "$work/import1" "${pages[@]}" >/dev/null 2>&1
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" -v n="${#pages[@]}" -v l="$label" 'BEGIN { printf "%-44s %d pages in %.3f s: %.1f pages/s (one process)\n", l " import, largest pages", n, b-a, n/(b-a) }'
peers="$(dirname "$0")/../../shared/bench"
if [ -x "$peers/.venv/bin/python" ]; then
    "$peers/.venv/bin/python" "$peers/peers.py" --repeat 2 "${pages[@]}"
fi
