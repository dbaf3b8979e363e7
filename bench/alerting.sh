#!/usr/bin/env bash
# Alerting on the production stack (gunicorn, PostgreSQL, Redis, Celery): (a) sustained ingestion through
# /v2/enqueue with dedup (one new dedup key in five, the rest repeats of 200 keys), accepted events/s as a ratio to
# the same stack's trivial view (/healthz) in the same run, goal >= 500/s; (b) trigger -> first page handed to a
# transport at 200 events/s, goal p99 < 2 s; (c) one tick with 10,000 escalations due, goal < 1 s.
# Usage: bash bench/alerting.sh [seconds]     needs wrk, PostgreSQL on :5432 (user postgres, trust), Redis :6379
#   BENCH_DB=name BENCH_REDIS_DB=n PORT=n WORKERS=n   defaults opsportal_alerting, 6, 8106, 4 (as the README runs production)
#   PARTS="a b c"                                    which measurements to run
#   RATE=n                                           triggers/s for (b) (default 200)
# The per-key ingest limit (INGEST_RATE_PER_MINUTE, PagerDuty's policy) is switched off: this measures capacity.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
BIN=$PWD/.venv/bin
WORK=$(mktemp -d)
DB=${BENCH_DB:-opsportal_alerting}
REDIS_DB=${BENCH_REDIS_DB:-6}
PORT=${PORT:-8106}
PARTS=${PARTS:-a b c}
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

export DEBUG=0 SECRET_KEY=bench-$RANDOM$RANDOM ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 LOG_LEVEL=WARNING \
       OPSPORTAL_VAR_DIR="$WORK" DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" \
       REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB" OPSPORTAL_MODE=production PUBLIC_URL=http://127.0.0.1:$PORT \
       NOTIFICATIONS_CONSOLE=1 INGEST_RATE_PER_MINUTE=0 \
       PAGE_RATE_PUSH_PER_MINUTE=0 PAGE_RATE_PUSH_PER_HOUR=0 PAGE_RATE_EMAIL_PER_MINUTE=0 PAGE_RATE_EMAIL_PER_HOUR=0
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
redis-cli -n "$REDIS_DB" flushdb >/dev/null
$BIN/python manage.py migrate -v0
$BIN/python manage.py load_demo --allow-production >/dev/null
KEY=$($BIN/python manage.py integrations key payments "Grafana (PagerDuty)")
psql -q -h 127.0.0.1 -U postgres -d "$DB" -c "VACUUM ANALYZE" >/dev/null

$BIN/gunicorn opsportal.wsgi --workers "${WORKERS:-4}" --bind "127.0.0.1:$PORT" --log-level warning &
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); $(date -u +%F); gunicorn workers ${WORKERS:-4}"

start_workers() {
    # As the README runs production: a worker on the paging queue (the intake and escalation ticks), the general
    # worker on both, and beat.
    $BIN/celery -A opsportal worker -Q paging --pool prefork --concurrency 1 --loglevel WARNING --without-gossip \
        --without-mingle --without-heartbeat -n "paging@%h" >"$WORK/celery-paging.log" 2>&1 &
    CELERY_PIDS="$!"
    $BIN/celery -A opsportal worker -Q celery,paging --pool prefork --concurrency 2 --loglevel WARNING --without-gossip \
        --without-mingle --without-heartbeat -n "alerting@%h" >"$WORK/celery.log" 2>&1 &
    CELERY_PIDS="$CELERY_PIDS $!"
    $BIN/celery -A opsportal beat --loglevel WARNING -s "$WORK/beat-schedule" >"$WORK/beat.log" 2>&1 &
    CELERY_PIDS="$CELERY_PIDS $!"
}

if [[ " $PARTS " == *" a "* ]]; then
    cat > "$WORK/enqueue.lua" <<LUA
-- PagerDuty Events v2 triggers: every fifth a new dedup key, the rest repeats of 200 keys.
local n, thread_id = 0, 0
local counter = 0
function setup(thread) counter = counter + 1; thread:set("id", counter) end
function init(args) thread_id = id end
function request()
    n = n + 1
    local key
    if n % 5 == 0 then key = "new-" .. thread_id .. "-" .. n else key = "repeat-" .. (n % 200) end
    local body = '{"routing_key":"$KEY","event_action":"trigger","dedup_key":"' .. key ..
        '","payload":{"summary":"Bench alert ' .. key .. '","source":"bench","severity":"warning"}}'
    return wrk.format("POST", "/v2/enqueue", {["Content-Type"] = "application/json"}, body)
end
LUA
    run() { # label, wrk args...
        local label=$1; shift
        local out; out=$(wrk -t2 -c"${CONNECTIONS:-16}" -d"${DURATION}s" --latency "$@")
        local total rps non2xx p99
        total=$(awk '/requests in/ {print $1}' <<<"$out")
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out"); non2xx=${non2xx:-0}
        p99=$(awk '$1=="99%" {print $2}' <<<"$out")
        local accepted; accepted=$(awk -v r="$rps" -v t="$total" -v b="$non2xx" 'BEGIN {printf "%.0f", r * (t - b) / t}')
        echo "$accepted" > "$WORK/rps-$label"
        printf '| %-44s | %8s | %8s | %s\n' "$label" "$accepted" "$p99" "refused: $non2xx of $total"
    }
    wrk -t2 -c16 -d2s "http://127.0.0.1:$PORT/healthz" >/dev/null
    echo "| (a) what | accepted/s | p99 | "
    run healthz "http://127.0.0.1:$PORT/healthz"
    # a1: the door alone (no worker yet: events wait in the queue), as the figures before the intake were taken.
    run "door alone" -s "$WORK/enqueue.lua" "http://127.0.0.1:$PORT"
    awk -v h="$(cat "$WORK/rps-healthz")" -v e="$(cat "$WORK/rps-door alone")" \
        'BEGIN {printf "(a1) /v2/enqueue, the door alone, accepted %d events/s = %.0f %% of /healthz (goal >= 500/s)\n", e, 100 * e / h}'
    # a2: the workers start on that backlog: how fast the intake applies it (and the paging it starts runs).
    start_workers
    $BIN/python bench/alerting.py drain --seconds 0 --label "(a2) the backlog, by the intake"
    $BIN/python bench/alerting.py settle
    # a3: sustained, everything at once on the two cores: door, intake, escalation ticks, paging.
    run "door + intake + paging" -s "$WORK/enqueue.lua" "http://127.0.0.1:$PORT"
    awk -v h="$(cat "$WORK/rps-healthz")" -v e="$(cat "$WORK/rps-door + intake + paging")" \
        'BEGIN {printf "(a3) sustained with the intake and paging beside it: accepted %d events/s = %.0f %% of /healthz\n", e, 100 * e / h}'
    $BIN/python bench/alerting.py drain --seconds "$DURATION" --label "(a3) sustained"
fi

if [[ " $PARTS " == *" b "* ]]; then
    [[ -n "${CELERY_PIDS:-}" ]] || { start_workers; sleep 5; }
    $BIN/python bench/alerting.py latency "http://127.0.0.1:$PORT" "$KEY" --rate "${RATE:-200}" --seconds "$DURATION" --new-every "${NEW_EVERY:-5}"
    grep -E "ERROR|Traceback|CRITICAL" "$WORK/celery.log" | head -5 || true
fi

if [[ -n "${CELERY_PIDS:-}" ]]; then
    kill $CELERY_PIDS 2>/dev/null || true  # (c) times the tick alone, not beside (a)'s and (b)'s paging
    sleep 3
fi

if [[ " $PARTS " == *" c "* ]]; then
    $BIN/python bench/alerting.py tick 10000
    start_workers
    sleep 5
    $BIN/python bench/alerting.py storm
fi
