#!/usr/bin/env bash
# Several crawl hosts sharing one PostgreSQL state, against a local fake WeChat (every article id
# answers with fixtures/pages/modern-2025.html under that id; each request is logged).
#   scripts/bench-fleet.sh POSTGRES_ADMIN_URL ARTICLES HOSTS DELAY [WORK]
# e.g. scripts/bench-fleet.sh "$(scripts/postgres start /tmp/pg)" 600 3 0.1
# Prints the wall time, the requests WeChat saw (all and distinct), the records written and each
# host's summary line. Uses the release binary (cargo build --release first).
set -euo pipefail
cd "$(dirname "$0")/.."
admin=$1 n=$2 hosts=$3 delay=$4
work=${5:-$(mktemp -d)}
bin=$PWD/target/release/wxsec
port=$((40000 + RANDOM % 10000))
db="wxsec_fleet_$$"
base=${admin%/*}
psql "$admin" -qc "CREATE DATABASE $db"
for i in $(seq 1 "$n"); do
    echo "https://mp.weixin.qq.com/s?__biz=MzI2NTg4OTc5Nw==&mid=$((2247000000 + i))&idx=1&sn=$(printf %032x "$i")"
done >"$work/urls.txt"
printf 'out = "archive"\nstate = "%s/%s"\ndelay = %s\njitter = 0\nmax_wait = 30\nlease = 60\n[[source]]\nname = "list"\nurls = "urls.txt"\n' \
    "$base" "$db" "$delay" >"$work/wxsec.toml"
: >"$work/requests.log"
python3 scripts/fake-wechat.py "$port" fixtures/pages/modern-2025.html "$work/requests.log" &
server=$!
trap 'kill $server 2>/dev/null || true; psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true' EXIT
sleep 1
start=$(date +%s.%N)
pids=()
for h in $(seq 1 "$hosts"); do
    WXSEC_HOST=host$h WXSEC_ORIGIN=http://127.0.0.1:$port "$bin" crawl --config "$work/wxsec.toml" >"$work/out-$h.txt" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}" || true
end=$(date +%s.%N)
echo "hosts=$hosts articles=$n delay=$delay: $(echo "$end - $start" | bc) s; requests $(wc -l <"$work/requests.log"), distinct $(sort -u "$work/requests.log" | wc -l); records $(find "$work/archive" -name '*.md' -not -path '*/.wxsec/*' | wc -l)"
for h in $(seq 1 "$hosts"); do echo "  host$h: $(tail -1 "$work/out-$h.txt")"; done
