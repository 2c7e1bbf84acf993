#!/usr/bin/env bash
# Issue 26's targets on a large archive (a million records made by scripts/synth-archive), for one
# wxsec binary: normalise with the index, the same again with nothing changed, reindex, searches
# (p95 of whole processes, cold and warm), feed and status with nothing changed, the index's size
# against the records', peak memory of each. Cold means the page cache dropped before the command
# (needs root: /proc/sys/vm/drop_caches; without it every figure is warm and says so).
#
# usage: scripts/bench-million.sh BIN ARCHIVE WORK [STAGES]
#   BIN      a wxsec binary
#   ARCHIVE  the synthetic archive (scripts/synth-archive 1000000 ARCHIVE …)
#   WORK     a scratch folder on the same disk: WORK/out is normalise's output and the archive
#            searched; kept between runs so that STAGES can skip the long first pass
#   STAGES   any of: normalise again reindex search feed (default: all, in that order)
# WXSEC_STATE=postgres://… runs the same on a PostgreSQL state. COLD_RUNS and WARM_RUNS (10, 20)
# set how many times each search runs.
set -euo pipefail
bin=$(realpath "$1"); archive=$(realpath "$2"); work=$3; shift 3
stages=${*:-normalise again reindex search feed}
mkdir -p "$work"; work=$(realpath "$work"); out=$work/out
state=()
[ -n "${WXSEC_STATE:-}" ] && state=(--state "$WXSEC_STATE")
cold() { sync; if [ -w /proc/sys/vm/drop_caches ]; then echo 3 >/proc/sys/vm/drop_caches; fi; }
t() { # label, command…: wall seconds and peak RSS of one whole process
    local what=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/.time" "$@" >"$work/.out" 2>"$work/.err" || { echo "$what failed:"; tail -3 "$work/.err"; }
    read -r secs kb <"$work/.time"
    printf '%-52s %9.3f s  %6d MB peak\n' "$what" "$secs" $((kb / 1024))
}
echo "# $(basename "$bin") on $(basename "$archive"), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, state ${WXSEC_STATE:+postgres}${WXSEC_STATE:-sqlite}"
for stage in $stages; do
    case $stage in
    normalise)
        rm -rf "$out"; cold
        t "normalise --out (index kept), cold" "$bin" normalise -q "${state[@]}" --out "$out" "$archive"
        ;;
    again)
        cold
        t "normalise again, nothing changed, cold" "$bin" normalise -q "${state[@]}" --out "$out" "$archive"
        ;;
    reindex)
        cold
        t "reindex, cold" "$bin" reindex -q "${state[@]}" --out "$out"
        ;;
    search)
        for term in 漏洞 安全 远程代码执行 CVE-2021-44228 log4j "--cve CVE-2021-44228"; do
            # shellcheck disable=SC2086
            set -- $term
            for mode in cold warm; do
                rm -f "$work/.lat" "$work/.mem"
                runs=${WARM_RUNS:-20}
                [ $mode = cold ] && runs=${COLD_RUNS:-10}
                for _ in $(seq "$runs"); do
                    [ $mode = cold ] && cold
                    start=$(date +%s%N)
                    /usr/bin/time -f "%M" -a -o "$work/.mem" "$bin" search "${state[@]}" --out "$out" --limit 20 "$@" >/dev/null 2>&1
                    echo $(( ($(date +%s%N) - start) / 1000 )) >>"$work/.lat"
                done
                mem=$(sort -n "$work/.mem" | tail -1)
                sort -n "$work/.lat" | awk -v w="search $term ($mode)" -v m="$mem" '{s[NR]=$1}
                    END {a = int(NR * 0.5 + 0.5); b = int(NR * 0.95 + 0.5); if (b > NR) b = NR;
                         printf "%-52s p50 %8.1f ms  p95 %8.1f ms  %5d MB peak\n", w, s[a] / 1000, s[b] / 1000, m / 1024}'
            done
        done
        ;;
    feed)
        "$bin" feed -q "${state[@]}" --out "$out" --dest "$work/feeds" >/dev/null 2>&1 || true
        t "feed, nothing changed (warm)" "$bin" feed -q "${state[@]}" --out "$out" --dest "$work/feeds"
        t "status (warm)" "$bin" status "${state[@]}" --out "$out"
        ;;
    esac
done
records=$(du -sb --exclude=.wxsec "$out" 2>/dev/null | cut -f1)
if [ -z "${WXSEC_STATE:-}" ]; then
    index=$(du -cb "$out/.wxsec/"state.sqlite* | tail -1 | cut -f1)
    awk -v r="$records" -v i="$index" 'BEGIN {printf "records %.2f GB, index %.2f GB = %.3f x the records\n", r / 1e9, i / 1e9, i / r}'
fi
