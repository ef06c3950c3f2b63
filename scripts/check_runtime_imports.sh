#!/usr/bin/env bash
# Does the product run with requirements.txt alone? Builds a fresh virtualenv from requirements.txt
# only, runs `pip check` there, then imports every runtime module and resolves every import
# (scripts/check_runtime_imports.py) with DEBUG off and production-like settings. Exits non-zero
# when a runtime module needs something that is only in requirements-dev.txt (or nowhere).
# Usage: scripts/check_runtime_imports.sh [existing-runtime-venv]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/runtime_venv.sh

WORK="$(mktemp -d -t ledger-imports.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
VENV="${1:-}"
if [[ -z "$VENV" ]]; then
    VENV="$WORK/venv"
    echo "building a virtualenv from requirements.txt alone in $VENV"
    build_runtime_venv "$VENV"
else
    "$VENV/bin/python" -m pip check
fi

# Production-like: DEBUG off, a secret key, data in a throwaway directory; no database is touched.
env -u DATABASE_URL -u REDIS_URL DEBUG=0 SECRET_KEY="runtime-import-check-only" DATA_DIR="$WORK/data" \
    ALLOWED_HOSTS=127.0.0.1 SITE_URL=http://127.0.0.1 DJANGO_SETTINGS_MODULE=config.settings \
    PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" scripts/check_runtime_imports.py
