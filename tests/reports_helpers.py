"""Building signed quarters for the noticeboard tests."""

import datetime

from ledger.book import services as ledger
from ledger.models import Period, PointEvent

Q3_DAY = datetime.date(2026, 8, 10)


def approve_all(world, period: Period) -> None:
    for event in PointEvent.objects.filter(period=period, status=PointEvent.Status.PENDING):
        decider = (
            world.committee if world.committee.pk not in (event.entered_by_id, event.claimed_by_id) else world.deputy
        )
        ledger.event_approve(actor=decider, event=event)


def fill_q3(world) -> Period:
    """Branch A's third quarter of 2026: base points, bonuses and a deduction, all approved."""
    ledger.base_points_grant(actor=world.secretary, branch=world.branch_a, year=2026, on=datetime.date(2026, 7, 1))
    ledger.claim_record(
        actor=world.secretary, member=world.wang, rule=world.rules.clean, occurred_on=Q3_DAY, account="打扫责任区"
    )
    ledger.claim_record(
        actor=world.secretary,
        member=world.zhang,
        rule=world.rules.haircut,
        occurred_on=Q3_DAY,
        account="为村里老人义务理发",
    )
    ledger.deduction_add(
        actor=world.committee, member=world.li, rule=world.rules.absent, occurred_on=Q3_DAY, reason="无故缺席党课"
    )
    period = Period.objects.get(branch=world.branch_a, year=2026, quarter=3)
    approve_all(world, period)
    return period


def sign_and_post(world, period: Period) -> Period:
    period = ledger.period_sign(actor=world.secretary, period=period)
    return ledger.period_post(actor=world.committee, period=period)


# --- reading PDFs --------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _to_unicode_cids(cmap: str) -> dict[int, str]:
    """CID → text from a ToUnicode CMap (bfchar and bfrange sections)."""
    import re

    mapping: dict[int, str] = {}

    def text(hexstr: str) -> str:
        raw = bytes.fromhex(hexstr)
        return raw.decode("utf-16-be", errors="replace")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for cid, uni in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            mapping[int(cid, 16)] = text(uni)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, start in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            base = int(start, 16)
            for offset, cid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[cid] = chr(base + offset)
    return mapping


def font_coverage_problems(data: bytes) -> list[str]:
    """Every character of the text must be drawn with an embedded font that has a glyph for it.

    For each font on each page: the font program must be embedded; its ToUnicode map says which
    glyph (CID) drew which character. No character may be drawn with glyph 0 (.notdef, the
    empty box a missing glyph prints as), and each glyph used must exist in the embedded font
    program with an outline (read with fontTools). Then every non-blank character of the
    extracted text must be among those drawn that way.
    """
    import io

    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    problems: list[str] = []
    covered: set[str] = set()
    seen: set = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            key = getattr(ref, "idnum", None) or id(ref)
            if key in seen:
                continue
            seen.add(key)
            font = ref.get_object()
            name = str(font.get("/BaseFont"))
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            program = next((descriptor[k] for k in ("/FontFile3", "/FontFile2", "/FontFile") if k in descriptor), None)
            if program is None or "/ToUnicode" not in font:
                problems.append(f"{name}: font not embedded or without a ToUnicode map")
                continue
            embedded = TTFont(io.BytesIO(program.get_object().get_data()))
            glyph_order = embedded.getGlyphOrder()
            glyphs = embedded.getGlyphSet()
            to_unicode = _to_unicode_cids(font["/ToUnicode"].get_object().get_data().decode("latin-1"))
            for cid, chars in to_unicode.items():
                if cid == 0:
                    problems.append(f"{name}: {chars!r} drawn as .notdef (missing glyph)")
                    continue
                if cid >= len(glyph_order):
                    problems.append(f"{name}: {chars!r} uses glyph {cid}, not in the embedded font")
                    continue
                pen = BoundsPen(glyphs)
                glyphs[glyph_order[cid]].draw(pen)
                if pen.bounds is None and chars.strip():
                    problems.append(f"{name}: {chars!r} has an empty glyph in the embedded font")
                    continue
                covered.update(chars)
    text = pdf_text(data)
    missing = sorted({ch for ch in text if not ch.isspace()} - covered)
    if missing:
        problems.append("characters without a glyph in the embedded fonts: " + "".join(missing))
    return problems
