"""Writing an export's rows to CSV or XLSX, a row at a time.

CSV is UTF-8 with a byte order mark: without it Excel reads the file in the machine's code
page and Chinese names come out garbled. XLSX is written by openpyxl in write-only mode, which
streams rows to the file instead of holding the sheet in memory. In both, a text cell that
starts with = + - @ (or a tab or carriage return) is prefixed with a quote: a spreadsheet
would run it as a formula, and names, notes and tags come from users.
"""

import csv
import datetime

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """``value`` made safe for a spreadsheet cell: text starting like a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class CsvWriter:
    """Rows to a CSV file (UTF-8 with BOM)."""

    def __init__(self, path):
        self._file = open(path, "w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._file)

    def write(self, row):
        """Write one row of cells."""
        self._csv.writerow([neutralise(cell) for cell in row])

    def close(self):
        """Finish the file."""
        self._file.close()


class XlsxWriter:
    """Rows to an XLSX workbook of one sheet, streamed (openpyxl write-only)."""

    def __init__(self, path, title="export"):
        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=title[:31])

    def write(self, row):
        """Write one row of cells."""
        self._sheet.append([neutralise(cell) for cell in row])

    def close(self):
        """Save the workbook."""
        self._book.save(self._path)
        self._book.close()


WRITERS = {"csv": CsvWriter, "xlsx": XlsxWriter}
