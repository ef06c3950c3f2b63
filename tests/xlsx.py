"""Build spreadsheet files for import tests, the way real ones look."""

import io

import openpyxl


def xlsx(rows: list[list], *, title: str | None = None, blank_rows_after: int = 0) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        width = max(len(r) for r in rows)
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        sheet.append([])
    for row in rows:
        sheet.append(row)
    for _ in range(blank_rows_after):
        sheet.append([None, "  ", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read(content: bytes) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in workbook.worksheets]
