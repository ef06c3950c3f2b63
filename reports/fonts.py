"""The print font (Noto Sans CJK, Debian's fonts-noto-cjk) and which characters it can draw.

A name with a character the font lacks would print as an empty box on the noticeboard; the job
refuses to produce such a PDF and says which characters are missing.
"""

import functools
import subprocess

FONT_FAMILY = "Noto Sans CJK SC"


class MissingGlyphs(Exception):
    """The document has characters the print font cannot draw (not worth retrying)."""


@functools.cache
def font_file() -> str | None:
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}\n%{index}", FONT_FAMILY], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


@functools.cache
def covered_characters() -> frozenset[str]:
    from fontTools.ttLib import TTFont

    found = font_file()
    if not found:
        return frozenset()
    path, _sep, index = found.partition("\n")
    font = TTFont(path, fontNumber=int(index or 0), lazy=True)
    return frozenset(chr(code) for code in font.getBestCmap())


def missing_characters(text: str) -> str:
    covered = covered_characters()
    if not covered:  # the font is not installed: WeasyPrint will fail loudly enough
        return ""
    return "".join(sorted({ch for ch in text if not ch.isspace() and ch not in covered}))
