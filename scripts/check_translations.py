"""Fail when a translation catalogue is incomplete (zh-Hans, zh-Hant, English).

For each locale/<lang>/LC_MESSAGES/django.po: no fuzzy entry, no empty translation (English may
leave one empty only where the source text is already English), and the compiled .mo holds a
translation for every message of the .po (so a stale or missing .mo fails too).
"""

import gettext
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _unquote(line: str) -> str:
    return line[line.index('"') + 1 : line.rindex('"')].encode("raw_unicode_escape").decode("unicode_escape")


def parse_po(path: Path) -> list[dict]:
    entries, current, key = [], None, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current and "msgid" in current:
                entries.append(current)
            current, key = None, None
            continue
        current = current or {"fuzzy": False, "msgstr": []}
        if line.startswith("#,") and "fuzzy" in line:
            current["fuzzy"] = True
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt"):
            current["msgctxt"], key = _unquote(line), "msgctxt"
        elif line.startswith("msgid_plural"):
            current["msgid_plural"], key = _unquote(line), "msgid_plural"
        elif line.startswith("msgid"):
            current["msgid"], key = _unquote(line), "msgid"
        elif line.startswith("msgstr"):
            current["msgstr"].append(_unquote(line))
            key = "msgstr"
        elif line.startswith('"') and key:
            if key == "msgstr":
                current["msgstr"][-1] += _unquote(line)
            else:
                current[key] += _unquote(line)
    return [e for e in entries if e.get("msgid")]


def main() -> int:
    problems: list[str] = []
    catalogues = sorted(ROOT.glob("locale/*/LC_MESSAGES/django.po"))
    if not catalogues:
        print("no translation catalogues found")
        return 1
    for po in catalogues:
        language = po.parent.parent.name
        name = po.relative_to(ROOT)
        mo_path = po.with_suffix(".mo")
        compiled = gettext.GNUTranslations(mo_path.open("rb")) if mo_path.exists() else None
        if compiled is None:
            problems.append(f"{name}: no compiled .mo (run make messages)")
        for entry in parse_po(po):
            msgid = entry["msgid"]
            if entry["fuzzy"]:
                problems.append(f"{name}: fuzzy: {msgid[:70]}")
                continue
            if not any(entry["msgstr"]):
                if language != "en" or CJK.search(msgid):
                    problems.append(f"{name}: untranslated: {msgid[:70]}")
                continue
            if compiled is not None:
                if "msgctxt" in entry:
                    got = compiled.pgettext(entry["msgctxt"], msgid)
                elif "msgid_plural" in entry:
                    got = compiled.ngettext(msgid, entry["msgid_plural"], 1)
                else:
                    got = compiled.gettext(msgid)
                if got != entry["msgstr"][0]:
                    problems.append(f"{mo_path.relative_to(ROOT)}: stale, recompile: {msgid[:70]}")
    for problem in problems[:200]:
        print(problem)
    print(f"{len(catalogues)} catalogues checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
