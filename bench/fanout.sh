#!/usr/bin/env bash
# One incident update fanned out to N confirmed subscribers (60 % email, 20 % webhook, 20 % SMS) through the
# outbox and Celery workers to loopback sinks (aiosmtpd SMTP, webhook receiver, Twilio-shaped SMS API).
# Goals: the update request < 300 ms and the incident row never held for long while it fans out (issue 9);
# every message accepted by a sink < 120 s, zero lost, zero duplicated (issue 5).
# Usage: bash bench/fanout.sh [N]         needs PostgreSQL on :5432 (user postgres, trust) and Redis on :6379
#   BENCH_DB=name BENCH_REDIS_DB=n        database (dropped and created) and Redis db (flushed); defaults
#                                         opsportal_fanout and 10
#   SMTP_PORT, SMTP_STATS_PORT, WEBHOOK_PORT, SMS_PORT   loopback sinks (defaults 8125-8128)
#   POOL=threads|prefork CONCURRENCY=n    Celery worker pool (default prefork, 2 processes)
#   EXTRA_TRIGGERS=n                      deliver_due tasks sent besides the one the commit starts
#                                         (default 0: the commit itself starts NOTIFICATION_DELIVERY_TASKS)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
POOL=${POOL:-prefork}
CONCURRENCY=${CONCURRENCY:-2}
BIN=$PWD/.venv/bin
WORK=$(mktemp -d)
DB=${BENCH_DB:-opsportal_fanout}
CELERY_PID=""
cleanup() {
    if [ -n "$CELERY_PID" ]; then kill "$CELERY_PID" 2>/dev/null || true; wait "$CELERY_PID" 2>/dev/null || true; fi
    kill $(jobs -p) 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

REDIS_DB=${BENCH_REDIS_DB:-10}
export SMTP_PORT=${SMTP_PORT:-8125} SMTP_STATS_PORT=${SMTP_STATS_PORT:-8126} WEBHOOK_PORT=${WEBHOOK_PORT:-8127} \
       SMS_PORT=${SMS_PORT:-8128}
export DEBUG=0 SECRET_KEY=bench-$RANDOM$RANDOM ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 LOG_LEVEL=WARNING \
       OPSPORTAL_VAR_DIR="$WORK" \
       DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB" \
       EMAIL_HOST=127.0.0.1 EMAIL_PORT=$SMTP_PORT \
       SMS_API_BASE_URL="http://127.0.0.1:$SMS_PORT" SMS_ACCOUNT_SID=ACbench SMS_AUTH_TOKEN=token SMS_FROM=+15550000000 \
       WEBHOOKS_ALLOW_PRIVATE=1 PUBLIC_URL=https://status.example.com OPSPORTAL_MODE=production
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
redis-cli -n "$REDIS_DB" flushdb >/dev/null
$BIN/python manage.py migrate -v0
$BIN/python bench/fanout.py seed "$N"
psql -q -h 127.0.0.1 -U postgres -d $DB -c "VACUUM ANALYZE" >/dev/null

$BIN/python bench/sinks.py smtp --port $SMTP_PORT --stats-port $SMTP_STATS_PORT &
$BIN/python bench/sinks.py webhook --port $WEBHOOK_PORT &
$BIN/python bench/sinks.py sms --port $SMS_PORT &
for port in $SMTP_STATS_PORT $WEBHOOK_PORT $SMS_PORT; do
    for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/_stats" >/dev/null && break; sleep 0.1; done
done

$BIN/celery -A opsportal worker -Q celery,paging --pool "$POOL" --concurrency "$CONCURRENCY" --loglevel WARNING \
    --without-gossip --without-mingle --without-heartbeat -n "fanout@%h" >"$WORK/celery.log" 2>&1 &
CELERY_PID=$!
for _ in $(seq 1 100); do grep -q "ready" "$WORK/celery.log" 2>/dev/null && break; \
    $BIN/celery -A opsportal inspect ping -t 0.5 >/dev/null 2>&1 && break; sleep 0.2; done

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); $(date -u +%F)"
echo "workers: celery --pool $POOL --concurrency $CONCURRENCY; subscribers: $N"
EXTRA_TRIGGERS=${EXTRA_TRIGGERS:-0} $BIN/python bench/fanout.py enqueue "$WORK/enqueue.json"
$BIN/python bench/fanout.py watch "$WORK/enqueue.json"

# Peak memory of the worker processes (the main process and its pool children), before they stop.
for pid in $CELERY_PID $(ps -o pid= --ppid "$CELERY_PID"); do
    awk -v pid="$pid" '/VmHWM/ {printf "worker pid %s peak RSS %.0f MiB\n", pid, $2/1024}' "/proc/$pid/status" 2>/dev/null || true
done
grep -E "ERROR|Traceback|CRITICAL" "$WORK/celery.log" | head -5 || true
