#!/usr/bin/env bash
# The public page rendered after a change, demo data vs 200 components x two years (issue 11). In-process, no HTTP.
# Usage: bash bench/public_page.sh [repeats]    needs PostgreSQL on :5432 and Redis on :6379
# BENCH_DB=opsportal_pagescale BENCH_REDIS_DB=12 (defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DB:-opsportal_pagescale}
REDIS_DB=${BENCH_REDIS_DB:-12}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export DEBUG=0 SECRET_KEY=bench-$RANDOM$RANDOM ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 LOG_LEVEL=WARNING \
       OPSPORTAL_VAR_DIR="$WORK" STATIC_ROOT="$WORK/static" DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" \
       REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB" OPSPORTAL_MODE=production PUBLIC_URL=http://127.0.0.1 \
       NOTIFICATIONS_CONSOLE=1
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
redis-cli -n "$REDIS_DB" flushdb >/dev/null
.venv/bin/python bench/public_page.py "${1:-5}"
