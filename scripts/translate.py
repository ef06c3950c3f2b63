"""Refresh the translation catalogues: `make messages`.

Source strings are Simplified Chinese. This extracts them (makemessages), fills the zh-Hans
catalogue with the source text, fills empty or fuzzy zh-Hant entries by OpenCC's s2t character
conversion, keeps every English translation already written, lists the English ones still
missing, and compiles all catalogues.
"""

import os
import sys
from pathlib import Path

import django
import opencc
import polib
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")


def main() -> int:
    django.setup()
    os.chdir(ROOT)
    ignore = [".venv/*", "var/*", "test-artifacts/*", "node_modules/*"]
    call_command(
        "makemessages", locale=["zh_Hans", "zh_Hant", "en"], ignore_patterns=ignore, no_obsolete=True, verbosity=0
    )
    call_command(
        "makemessages",
        locale=["zh_Hans", "zh_Hant", "en"],
        domain="djangojs",
        ignore_patterns=ignore,
        no_obsolete=True,
        verbosity=0,
    )
    to_traditional = opencc.OpenCC("s2t")
    missing_english = []
    for po_path in sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po")):
        language = po_path.parent.parent.name
        po = polib.pofile(str(po_path))
        for entry in po:
            if entry.obsolete:
                continue
            needs = "fuzzy" in entry.flags or not (entry.msgstr or any(entry.msgstr_plural.values()))
            if language == "zh_Hans":
                convert = str
            elif language == "zh_Hant":
                convert = to_traditional.convert
            else:
                if needs:
                    missing_english.append(entry.msgid)
                continue
            if needs or language == "zh_Hans":
                if entry.msgid_plural:
                    entry.msgstr_plural = {0: convert(entry.msgid)}
                else:
                    entry.msgstr = convert(entry.msgid)
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
        po.save()
    call_command("compilemessages", ignore_patterns=[".venv", "var"], verbosity=0)
    for msgid in missing_english:
        print(f"en: untranslated: {msgid}")
    print(f"{len(missing_english)} English messages still to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
