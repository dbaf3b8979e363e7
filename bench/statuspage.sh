#!/usr/bin/env bash
# Status page under a surge: summary.json and "/" against a trivial view (/healthz) on the same server stack
# (gunicorn, PostgreSQL, Redis), and against the exported static files behind nginx. One run, wrk at 64
# connections. Goal (issue 4): the dynamic pages reach >= 80 % of the trivial view's requests/s, p99 < 50 ms.
# Usage: bash bench/statuspage.sh [seconds]    needs wrk, nginx, PostgreSQL on :5432 and Redis on :6379
# (BENCH_DB, BENCH_REDIS_DB, APP_PORT and STATIC_PORT override the database, Redis db and ports.)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
BIN=$PWD/.venv/bin
WORK=$(mktemp -d)
chmod 755 "$WORK"
DB=${BENCH_DB:-opsportal_bench}
REDIS_DB=${BENCH_REDIS_DB:-13}
APP_PORT=${APP_PORT:-8101}      # gunicorn
STATIC_PORT=${STATIC_PORT:-8103}  # nginx serving the export
trap 'kill $(jobs -p) 2>/dev/null || true; nginx -s stop -c "$WORK/nginx.conf" 2>/dev/null || true; rm -rf "$WORK"' EXIT

export DEBUG=0 SECRET_KEY=bench-$RANDOM$RANDOM ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 LOG_LEVEL=WARNING \
       OPSPORTAL_VAR_DIR="$WORK" STATIC_ROOT="$WORK/static" \
       DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB" \
       OPSPORTAL_MODE=production PUBLIC_URL=http://127.0.0.1 NOTIFICATIONS_CONSOLE=1
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
redis-cli -n "$REDIS_DB" flushdb >/dev/null
$BIN/python manage.py migrate -v0
$BIN/python manage.py load_demo --allow-production >/dev/null
$BIN/python manage.py collectstatic --noinput -v0
$BIN/python manage.py export_statuspage "$WORK/export" >/dev/null

cat > "$WORK/nginx.conf" <<NGINX
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    types {
        text/html html; application/json json; text/css css; application/javascript js;
        application/rss+xml rss; application/atom+xml atom; text/calendar ics;
    }
    # The export's own nginx snippet (README, "Static export"), unchanged.
    map \$arg_before \$history_file {
        "~^(?<month>[0-9]{4}-[0-9]{2})\$" /history/\$month/index.html;
        default /history/index.html;
    }
    server {
        listen 127.0.0.1:$STATIC_PORT;
        root $WORK/export;
        gzip_static on;   # serve the export's .gz copy to clients that accept gzip
        gzip_vary on;
        location ~ /\. { deny all; }   # the manifest, the lock, half-written temp files
        location = /history/ { try_files \$history_file =404; }
        location / { try_files \$uri \$uri/index.html =404; }
    }
}
NGINX
nginx -c "$WORK/nginx.conf"
# nginx really serves the precompressed copies (gzip_static) and only to clients that ask for them.
for path in / /api/v2/summary.json /history.rss; do
    curl -fsS -o /dev/null -D - -H "Accept-Encoding: gzip" "http://127.0.0.1:$STATIC_PORT$path" | grep -qi '^content-encoding: gzip' \
        || { echo "nginx did not serve $path gzipped"; exit 1; }
    ! curl -fsS -o /dev/null -D - "http://127.0.0.1:$STATIC_PORT$path" | grep -qi '^content-encoding' \
        || { echo "nginx served $path gzipped to a client that did not ask"; exit 1; }
done
echo "nginx gzip_static: /, /api/v2/summary.json and /history.rss served precompressed (Content-Encoding: gzip)"

$BIN/gunicorn opsportal.wsgi --workers ${WORKERS:-2} --bind 127.0.0.1:$APP_PORT --log-level warning &
for _ in $(seq 1 50); do curl -fs http://127.0.0.1:$APP_PORT/healthz >/dev/null && break; sleep 0.2; done
# Warm each worker's copy of the pages (the first request of a version renders it once, for everyone).
for _ in $(seq 1 20); do curl -fs -o /dev/null http://127.0.0.1:$APP_PORT/; curl -fs -o /dev/null http://127.0.0.1:$APP_PORT/api/v2/summary.json; done

measure() { # label url
    local out rps p99
    # Browsers always offer gzip; so does this load.
    out=$(wrk -t2 -c64 -d"${DURATION}s" --latency -H "Accept-Encoding: gzip" "$2")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
    printf '| %-40s | %10s | %9s | %s\n' "$1" "$rps" "$p99" "$errors"
    echo "$rps" > "$WORK/rps-$(echo "$1" | tr -c 'a-z0-9' '_')"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); wrk -t2 -c64 -d${DURATION}s"
# A short unmeasured run first, so every worker has its imports, connections and page copies warm.
wrk -t2 -c64 -d2s http://127.0.0.1:$APP_PORT/healthz >/dev/null
wrk -t2 -c64 -d2s http://127.0.0.1:$APP_PORT/ >/dev/null
wrk -t2 -c64 -d2s http://127.0.0.1:$APP_PORT/api/v2/summary.json >/dev/null
echo "gunicorn workers: ${WORKERS:-2}"
echo "| what | req/s | p99 | errors"
measure "trivial view /healthz (gunicorn)" http://127.0.0.1:$APP_PORT/healthz
measure "/api/v2/summary.json (gunicorn)" http://127.0.0.1:$APP_PORT/api/v2/summary.json
measure "/ status page (gunicorn)" http://127.0.0.1:$APP_PORT/
measure "/api/v2/summary.json (nginx, exported)" http://127.0.0.1:$STATIC_PORT/api/v2/summary.json
measure "/ status page (nginx, exported)" http://127.0.0.1:$STATIC_PORT/
