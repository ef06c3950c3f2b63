"""Scope fails closed: the build breaks when an adapter queries a branch-owned model raw.

Every model of the four domain apps has a scoped manager (``branches/querysets.py``). Views,
admin, API, exports, imports and the report screens must reach those models only through
``Model.objects.visible_to(user)`` / ``.writable_by(user)`` (``.none()`` is allowed: it can't
leak). ``Model.objects.filter(...)``, ``Model._default_manager``, ``Model._base_manager`` and
``get_object_or_404(Model, ...)`` are flagged, unless the function is on the small allow-list
below, each entry with its reason.
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps

from branches.querysets import ScopedQuerySet

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = ("branches", "members", "ledger", "reports")

#: The adapter modules: whatever answers a request or moves data in or out.
ADAPTER_NAMES = ("views.py", "*_views.py", "admin.py", "admin_*.py", "api.py", "forms.py", "exports.py", "imports.py")
ADAPTER_NAMES += ("resources.py",)

MANAGERS = ("objects", "_default_manager", "_base_manager")
SCOPED = ("visible_to", "writable_by", "none")

#: (module, function): reason. Whole functions, so the reason covers every line in them.
ALLOWED = {
    ("ledger/review/views.py", "__init__"): "public feedback form of a branch found by its public code: "
    "lists the branch's active members' names and its open posting windows, as the noticeboard does",
    ("ledger/review/views.py", "feedback_create"): "public page: the branch by its public code, and a "
    "member of that branch the villager names",
    ("reports/views.py", "_public_branch"): "public noticeboard: the branch by its public code",
    ("reports/views.py", "_public_period"): "public noticeboard: only posted or final quarters",
    ("reports/views.py", "_public_pdf"): "public noticeboard: the posting PDF of a posted quarter",
    ("ledger/spreadsheets/imports.py", "import_preview"): "creates the batch row after _writable_branch(actor, branch)",
    ("ledger/spreadsheets/imports.py", "_preview_members"): "called only by import_preview, after _writable_branch",
    ("ledger/spreadsheets/imports.py", "_preview_claims"): "called only by import_preview, after _writable_branch",
    ("ledger/spreadsheets/imports.py", "_check_claims_against_ledger"): "called only by import_preview, after "
    "_writable_branch; bulk reads for caps and duplicates",
    ("ledger/spreadsheets/imports.py", "import_confirm"): "locks the batch row (select_for_update), then checks "
    "created_by and _writable_branch in the same transaction before anything is read or written",
    (
        "ledger/spreadsheets/exports.py",
        "export_request",
    ): "creates the actor's own export job row, after export_build checked scope",
    ("ledger/web/forms.py", "branch_members"): "the choices of a form whose branch the view found through "
    "branch_scope(user, write=True) (404 otherwise)",
    ("ledger/web/idempotency.py", "idempotent_create"): "stores the user's own idempotency key (owner = request.user)",
    ("branches/admin_scope.py", "has_any_role"): "asks whether the signed-in user holds any role "
    "at all (their own assignments), to open the admin; no data is shown",
}


def branch_owned_models() -> set[str]:
    return {model.__name__ for model in apps.get_models() if isinstance(model._default_manager.all(), ScopedQuerySet)}


def adapter_modules() -> list[Path]:
    found = {
        path
        for app in (*DOMAIN_APPS, "config")
        for name in ADAPTER_NAMES
        for path in (ROOT / app).rglob(name)
        if "migrations" not in path.parts
    }
    found.add(ROOT / "ledger" / "web" / "idempotency.py")
    return sorted(found)


def raw_queries(source: str, models: set[str]) -> list[tuple[int, str, str]]:
    """(line, enclosing function, what) for every unscoped use of a branch-owned model."""
    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id in models
            and node.value.attr == "objects"
            and node.attr not in SCOPED
        ):
            found.append((node.lineno, function, f"{node.value.value.id}.{node.value.attr}.{node.attr}"))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in models
            and node.attr in MANAGERS
            and node.attr != "objects"
        ):
            found.append((node.lineno, function, f"{node.value.id}.{node.attr}"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("get_object_or_404", "get_list_or_404")
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in models
        ):
            found.append((node.lineno, function, f"{node.func.id}({node.args[0].id}, …)"))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), "<module>")
    return sorted(set(found))


def test_every_model_of_the_domain_apps_has_the_scoped_manager():
    unscoped = [
        model.__name__
        for model in apps.get_models()
        if model._meta.app_label in DOMAIN_APPS and not isinstance(model._default_manager.all(), ScopedQuerySet)
    ]
    assert unscoped == []
    assert {"Member", "PointEvent", "Evidence", "Period", "ScoringRule", "Document", "Batch"} <= branch_owned_models()


def test_the_guard_looks_at_the_adapter_modules():
    names = {str(p.relative_to(ROOT)) for p in adapter_modules()}
    for expected in (
        "ledger/web/views.py",
        "ledger/spreadsheets/views.py",
        "ledger/review/views.py",
        "ledger/admin.py",
        "ledger/review/admin.py",
        "ledger/web/api.py",
        "ledger/spreadsheets/exports.py",
        "ledger/spreadsheets/imports.py",
        "ledger/spreadsheets/resources.py",
        "members/views.py",
        "members/api.py",
        "branches/admin_scope.py",
        "branches/api.py",
        "reports/views.py",
        "reports/api.py",
        "reports/admin.py",
        "ledger/web/idempotency.py",
    ):
        assert expected in names


def test_adapters_query_branch_owned_models_only_through_the_scoped_manager():
    models = branch_owned_models()
    problems = []
    for path in adapter_modules():
        module = str(path.relative_to(ROOT))
        for line, function, what in raw_queries(path.read_text(encoding="utf-8"), models):
            if (module, function) not in ALLOWED:
                problems.append(f"{module}:{line} in {function}(): {what} — use .visible_to(user)/.writable_by(user)")
    assert problems == [], "\n".join(problems)


def test_every_allow_list_entry_is_still_needed():
    """An entry whose function no longer queries raw is removed, so the list stays small and true."""
    models = branch_owned_models()
    used = set()
    for path in adapter_modules():
        module = str(path.relative_to(ROOT))
        used |= {(module, fn) for _line, fn, _what in raw_queries(path.read_text(encoding="utf-8"), models)}
    assert set(ALLOWED) - used == set()
    assert all(reason.strip() for reason in ALLOWED.values())


VIOLATIONS = [
    "def branch_home(request, branch_id):\n    return PointEvent.objects.filter(branch_id=branch_id)\n",
    "def page(request):\n    return list(Member.objects.all())\n",
    "def page(request, pk):\n    return get_object_or_404(Evidence, pk=pk)\n",
    "def page(request):\n    return Period._default_manager.filter(year=2026)\n",
    "def page(request):\n    return Document._base_manager.get(pk=1)\n",
    "def page(request):\n    return PointEvent.objects.visible_to(request.user).union(PointEvent.objects.all())\n",
]


@pytest.mark.parametrize("source", VIOLATIONS)
def test_the_guard_flags_a_raw_query(source):
    found = raw_queries(source, branch_owned_models())
    assert found, source
    assert found[0][1] == "page" or found[0][1] == "branch_home"


def test_the_guard_flags_a_raw_query_added_to_a_real_view():
    view = (ROOT / "ledger" / "web" / "views.py").read_text(encoding="utf-8")
    models = branch_owned_models()
    before = raw_queries(view, models)
    broken = view + "\n\ndef leak(request):\n    return PointEvent.objects.filter(branch_id=1)\n"
    after = raw_queries(broken, models)
    assert [f for f in after if f not in before] == [(after[-1][0], "leak", "PointEvent.objects.filter")]


@pytest.mark.parametrize(
    "source",
    [
        "def page(request):\n    return PointEvent.objects.visible_to(request.user).filter(branch_id=1)\n",
        "def page(request):\n    return Member.objects.writable_by(request.user).get(pk=1)\n",
        "class V:\n    queryset = Member.objects.none()\n",
        "def page(request, period):\n    return period.events.filter(status='approved')\n",
    ],
)
def test_the_guard_lets_scoped_queries_through(source):
    assert raw_queries(source, branch_owned_models()) == []
