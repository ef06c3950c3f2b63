# Sourced by check_runtime_imports.sh and smoke_production.sh.
# build_runtime_venv DIR: a fresh virtualenv from requirements.txt alone (hashed, as the Dockerfile
# installs it), then `pip check`. Nothing from requirements-dev.txt, nothing from the shared .venv.
build_runtime_venv() {
    local venv="$1"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --require-hashes -r requirements.txt 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    "$venv/bin/python" -m pip check
}
