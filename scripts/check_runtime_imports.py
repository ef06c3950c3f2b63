"""Does the product import with requirements.txt alone?

Run with the Python of a virtualenv built from requirements.txt only (scripts/check_runtime_imports.sh
does that), with production-like settings. Two checks, both over every runtime module (the app
packages, config/, core/, management commands and migrations — not tests/, not scripts/):

1. import every module, after django.setup() with DEBUG off;
2. read every module's source and resolve every absolute `import x` / `from x import y`, including
   the ones inside functions (a lazy import fails only when its code path runs: the township
   batch's `from pypdf import PdfWriter` is one). Imports inside `try: … except ImportError` are
   optional by design and skipped.

Prints each failure and exits 1 if there is any. Standard library only (plus Django itself).
"""

import ast
import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What "the product" is: every *.py below these top-level packages.
RUNTIME_PACKAGES = ["config", "core", "branches", "members", "ledger", "reports"]
EXCLUDED_PARTS = {"tests", "__pycache__"}


def runtime_modules() -> list[tuple[str, Path]]:
    modules = []
    for package in RUNTIME_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if EXCLUDED_PARTS & set(relative.parts):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules.append((".".join(parts), path))
    return modules


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = []
    if handler.type is None:
        return True
    for node in ast.walk(handler.type):
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
    return bool({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"} & set(names))


def imported_names(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) for every absolute import in the file, unless guarded."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            for statement in node.body:
                for inner in ast.walk(statement):
                    guarded.add(id(inner))
    found = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "runtime-import-check-only")
    import django

    django.setup()
    from django.conf import settings

    if settings.DEBUG:
        print("✗ DEBUG must be off for this check", file=sys.stderr)
        return 2

    failures = []
    modules = runtime_modules()
    for name, path in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:
            last = traceback.extract_tb(exc.__traceback__)[-1]
            failures.append(f"{path.relative_to(ROOT)}: import {name} failed: {exc!r} ({last.filename}:{last.lineno})")

    checked: dict[str, bool] = {}
    for _name, path in modules:
        for line, module in imported_names(path):
            top = module.split(".")[0]
            if top in RUNTIME_PACKAGES:
                continue
            if module not in checked:
                try:
                    checked[module] = importlib.util.find_spec(module) is not None
                except (ImportError, ValueError):
                    checked[module] = False
            if not checked[module]:
                failures.append(
                    f"{path.relative_to(ROOT)}:{line}: imports {module!r}, which is not installed "
                    "from requirements.txt (add it to requirements.in and run `make lock`)"
                )

    for failure in failures:
        print(f"✗ {failure}")
    if failures:
        print(f"✗ {len(failures)} runtime import problem(s) in {len(modules)} modules")
        return 1
    print(
        f"✓ {len(modules)} runtime modules import, and all {len(checked)} modules they import resolve, "
        "with requirements.txt alone (DEBUG off)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
