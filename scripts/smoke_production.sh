#!/usr/bin/env bash
# Check a production install (README): a fresh virtualenv from requirements.txt alone, the
# Dockerfile's steps replayed (collectstatic, migrate) with DEBUG off and production settings
# against a fresh PostgreSQL database and a Redis db of its own, the demo county loaded, gunicorn
# (the Dockerfile's CMD) on a spare loopback port with a real Celery worker and beat, then
# scripts/smoke_production.py over real HTTP. Stops by itself (SMOKE_TIMEOUT, default 600 s),
# always cleans up (processes, database, temp dirs) and exits non-zero on any failure.
#
# Settings: PG (default postgres://postgres@127.0.0.1:5432), SMOKE_REDIS_URL (default
# redis://127.0.0.1:6379/14), SMOKE_TIMEOUT, PYTHON (python3.11 for the venv).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
source scripts/runtime_venv.sh

STARTED=$(date +%s)
SMOKE_TIMEOUT="${SMOKE_TIMEOUT:-600}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
REDIS="${SMOKE_REDIS_URL:-redis://127.0.0.1:6379/14}"
PASSWORD="smoke-$RANDOM-$RANDOM"
DB_NAME="ledger_smoke_$(date +%s)_$$"
WORK="$(mktemp -d -t ledger-smoke.XXXXXX)"
PIDS=()
FAILED=0

say() { printf '%s\n' "$*"; }
ok() { say "✓ $*"; }
bad() { say "✗ $*"; FAILED=1; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 20); do
        alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [[ $alive -eq 0 ]] && break
        sleep 0.5
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 \
        || say "! could not drop database $DB_NAME"
    # Only this run's keys: Celery's queues and the cache in our own db number.
    redis-cli -u "$REDIS" FLUSHDB >/dev/null 2>&1 || true
    if [[ $rc -ne 0 && -d "$WORK/logs" ]]; then
        for log in "$WORK"/logs/*.log; do
            say "--- last lines of $(basename "$log") ---"
            tail -n 25 "$log" || true
        done
    fi
    rm -rf "$WORK"
    say "smoke run: $([[ $rc -eq 0 ]] && echo passed || echo FAILED) in $(( $(date +%s) - STARTED )) s"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The whole run is bounded: a watchdog ends it after SMOKE_TIMEOUT seconds.
(
    for _ in $(seq 1 "$SMOKE_TIMEOUT"); do sleep 1; kill -0 $$ 2>/dev/null || exit 0; done
    say "✗ smoke run did not finish within ${SMOKE_TIMEOUT} s"; kill -TERM $$
) 2>/dev/null &
WATCHDOG=$!
PIDS+=("$WATCHDOG")

mkdir -p "$WORK/logs" "$WORK/data"
VENV="$WORK/venv"
say "=== fresh virtualenv from requirements.txt alone ($VENV)"
if build_runtime_venv "$VENV" >"$WORK/logs/pip.log" 2>&1; then
    ok "venv from requirements.txt (hashes required), pip check clean"
else
    cat "$WORK/logs/pip.log"; bad "venv from requirements.txt"; exit 1
fi

# Production settings: DEBUG off, everything from the environment, as docker-compose passes it.
PORT="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DEBUG=0 SECURE_HTTPS=0 SECRET_KEY="smoke-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
    ALLOWED_HOSTS=127.0.0.1,localhost DATABASE_URL="$PG/$DB_NAME" REDIS_URL="$REDIS" \
    DATA_DIR="$WORK/data" SITE_URL="http://127.0.0.1:$PORT" PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings
unset STATIC_ROOT MEDIA_ROOT CELERY_VISIBILITY_TIMEOUT 2>/dev/null || true
PY="$VENV/bin/python"

say "=== runtime imports"
if "$PY" scripts/check_runtime_imports.py >"$WORK/logs/imports.log" 2>&1; then
    say "$(grep "✓" "$WORK/logs/imports.log")"
else
    grep '✗' "$WORK/logs/imports.log" || cat "$WORK/logs/imports.log"; bad "runtime imports"
fi

say "=== the Dockerfile's steps, then the demo county"
psql "$PG/postgres" -qc "CREATE DATABASE \"$DB_NAME\"" >/dev/null
redis-cli -u "$REDIS" FLUSHDB >/dev/null
step() {  # step LABEL command…  (bounded, logged)
    local label="$1"; shift
    if timeout 300 "$@" >"$WORK/logs/$label.log" 2>&1; then ok "$label"; else tail -n 30 "$WORK/logs/$label.log"; bad "$label"; exit 1; fi
}
step collectstatic "$PY" manage.py collectstatic --no-input
step migrate "$PY" manage.py migrate --no-input
step "manage.py check" "$PY" manage.py check
step seed_demo "$PY" manage.py seed_demo --password "$PASSWORD"

say "=== gunicorn on 127.0.0.1:$PORT, Celery worker and beat"
"$VENV/bin/gunicorn" config.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --timeout 60 \
    --access-logfile - --access-logformat '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms' >"$WORK/logs/gunicorn.log" 2>&1 &
PIDS+=($!)
"$VENV/bin/celery" -A config worker -l INFO --concurrency 2 --hostname "smoke-$$@%h" \
    >"$WORK/logs/worker.log" 2>&1 &
PIDS+=($!)
# The configured scheduler (django-celery-beat's DatabaseScheduler); pid file in the temp dir.
"$VENV/bin/celery" -A config beat -l INFO --pidfile "$WORK/beat.pid" -s "$WORK/beat-schedule" \
    >"$WORK/logs/beat.log" 2>&1 &
PIDS+=($!)

wait_log() {  # wait_log FILE PATTERN SECONDS
    for _ in $(seq 1 "$3"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 1; done; return 1
}
for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/livez" 2>/dev/null && break
    sleep 1
done
if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/livez"; then ok "gunicorn answers /livez on port $PORT"; else bad "gunicorn did not start"; exit 1; fi
if wait_log "$WORK/logs/worker.log" "ready." 90; then ok "Celery worker ready"; else bad "Celery worker not ready within 90 s"; exit 1; fi
if wait_log "$WORK/logs/beat.log" "DatabaseScheduler" 60; then ok "Celery beat running with the DatabaseScheduler"; else bad "Celery beat did not start"; exit 1; fi

say "=== over HTTP"
remaining=$(( SMOKE_TIMEOUT - ($(date +%s) - STARTED) - 15 ))
timeout "$(( remaining > 30 ? remaining : 30 ))" "$PY" scripts/smoke_production.py "http://127.0.0.1:$PORT" "$PASSWORD" || FAILED=1

say "=== afterwards"
i=0
for label in gunicorn worker beat; do
    i=$((i + 1))
    if kill -0 "${PIDS[$i]}" 2>/dev/null; then ok "$label still running"; else bad "$label died"; fi
done
if grep -q -E "Traceback|ERROR" "$WORK/logs/gunicorn.log"; then bad "gunicorn logged an error"; grep -m5 -E "Traceback|ERROR" "$WORK/logs/gunicorn.log"; else ok "no error in gunicorn's log"; fi
if grep -q "Task reports\\..* succeeded" "$WORK/logs/worker.log"; then
    ok "worker ran $(grep -c 'Task .* succeeded' "$WORK/logs/worker.log") jobs"
else bad "the worker logged no successful job"; fi

if grep -q -E "ERROR/|raised unexpected" "$WORK/logs/worker.log"; then
    bad "the worker logged errors:"; grep -m3 -A0 -E "ERROR/|Error\(" "$WORK/logs/worker.log" | cut -c1-200
else ok "no error in the worker's log"; fi

exit $FAILED
