#!/usr/bin/env bash
# Plain-HTTP throughput of the same Django app under WSGI workers (gunicorn) and an ASGI server (daphne),
# measured in one run with wrk. This is the measurement behind "HTTP via WSGI, WebSockets via daphne".
# Usage: bash bench/http_servers.sh [duration_seconds]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
BIN=.venv/bin
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

export DEBUG=0 SECRET_KEY=bench-only-$(date +%s%N) ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 \
       OPSPORTAL_VAR_DIR="$WORK" STATIC_ROOT="$WORK/static" LOG_LEVEL=WARNING \
       OPSPORTAL_MODE=embedded PUBLIC_URL=http://127.0.0.1 NOTIFICATIONS_CONSOLE=1
unset REDIS_URL DATABASE_URL
$BIN/python manage.py migrate -v0
$BIN/python manage.py load_demo --allow-production >/dev/null
$BIN/python manage.py collectstatic --noinput -v0

wait_up() { for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.2; done; return 1; }
measure() { # name port path
    local out
    out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$2$3")
    printf '%-28s %-10s %10s req/s  p50 %8s  p99 %8s\n' "$1" "$3" \
        "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
}

$BIN/gunicorn opsportal.wsgi --workers 2 --bind 127.0.0.1:8101 --log-level warning &
$BIN/daphne --bind 127.0.0.1 --port 8102 --verbosity 0 opsportal.asgi:application &
wait_up 8101 && wait_up 8102
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); wrk 64 connections, ${DURATION}s each"
for path in /healthz /; do
    measure "gunicorn (WSGI, 2 workers)" 8101 "$path"
    measure "daphne (ASGI, 1 process)" 8102 "$path"
done
