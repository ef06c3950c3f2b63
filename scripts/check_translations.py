"""Fail when a translation catalogue is incomplete (zh-Hans, zh-Hant, English).

For every locale/<lang>/LC_MESSAGES/*.po: no fuzzy entry, no empty translation, and the
compiled .mo holds the same translation for every message (a stale or missing .mo fails too).
"""

import gettext
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {"zh_Hans", "zh_Hant", "en"}


def main() -> int:
    problems: list[str] = []
    catalogues = sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po"))
    found = {po.parent.parent.name for po in catalogues}
    problems += [f"locale/{lang}: no catalogue" for lang in sorted(LANGUAGES - found)]
    for po_path in catalogues:
        name = po_path.relative_to(ROOT)
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists():
            problems.append(f"{name}: not compiled (run make messages)")
            continue
        with mo_path.open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        for entry in polib.pofile(str(po_path)):
            if entry.obsolete:
                continue
            if "fuzzy" in entry.flags:
                problems.append(f"{name}: fuzzy: {entry.msgid[:70]}")
            elif entry.msgid_plural:
                if not all(entry.msgstr_plural.values()):
                    problems.append(f"{name}: untranslated: {entry.msgid[:70]}")
            elif not entry.msgstr:
                problems.append(f"{name}: untranslated: {entry.msgid[:70]}")
            else:
                got = compiled.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else compiled.gettext(entry.msgid)
                if got != entry.msgstr:
                    problems.append(f"{mo_path.relative_to(ROOT)}: stale, recompile: {entry.msgid[:70]}")
    for problem in problems[:300]:
        print(problem)
    print(f"{len(catalogues)} catalogues checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
