"""Reading a customer file: CSV (UTF-8 with or without BOM, or GB18030/GBK) or XLSX.

``read_table(path, format)`` gives the header and the rows as text cells, each row with the
number a spreadsheet shows (the header is row 1). A cell holding a formula (``=...``) is kept
as ``Formula``: it is never evaluated, and the importer reports it as that row's error, so a
file cannot smuggle a formula into the CRM and from there into an export (CSV injection).
``guess_mapping`` prefills the mapping from the headers, in Chinese or English.
"""

import csv
import dataclasses
import datetime
import io
import re

import openpyxl

from web.crm.errors import CrmError

FORMATS = ("csv", "xlsx")
PREVIEW_ROWS = 10
# the customer fields a column can feed; custom fields are "custom.<key>", "" is ignored
TARGETS = ("name", "phones", "gender", "birthday", "province", "city", "district", "street",
           "email", "company", "card_number", "source", "level", "tags", "owner",
           "consent_mail", "consent_gifts")
# header words (lowercased, without spaces, "_" and "-") -> target
SYNONYMS = {
    "name": ("name", "姓名", "客户姓名", "客户名称", "名字", "fullname", "customer"),
    "phones": ("phone", "phones", "mobile", "tel", "telephone", "手机", "手机号", "手机号码",
               "电话", "电话号码", "联系电话", "固话", "座机", "号码", "cellphone"),
    "gender": ("gender", "sex", "性别"),
    "birthday": ("birthday", "birthdate", "dateofbirth", "生日", "出生日期"),
    "province": ("province", "省", "省份"),
    "city": ("city", "市", "城市"),
    "district": ("district", "区", "区县", "县区"),
    "street": ("street", "address", "地址", "街道", "详细地址"),
    "email": ("email", "e mail", "mail", "邮箱", "电子邮件", "电子邮箱"),
    "company": ("company", "organisation", "organization", "公司", "单位", "工作单位"),
    "card_number": ("card", "cardnumber", "cardno", "membership", "卡号", "会员卡号",
                    "会员号"),
    "source": ("source", "channel", "来源", "客户来源", "渠道"),
    "level": ("level", "grade", "等级", "级别", "客户等级"),
    "tags": ("tags", "tag", "标签"),
    "owner": ("owner", "负责人", "归属", "所属坐席"),
    "consent_mail": ("consentmail", "mailings", "同意邮寄"),
    "consent_gifts": ("consentgifts", "gifts", "同意赠品"),
}
_FOLD = re.compile(r"[\s_\-]+")
_SNIFF_BYTES = 64 * 1024


class ImportFileError(CrmError):
    """The file cannot be read as a table (format, encoding, no header)."""


@dataclasses.dataclass(frozen=True)
class Formula:
    """A cell that held a formula; never evaluated, reported as an error."""

    text: str

    def __str__(self):
        return self.text


@dataclasses.dataclass
class Table:
    """A file's header and rows: ``rows`` yields (row number, [cell text or Formula])."""

    header: list
    rows: object
    encoding: str = None


def detect_format(filename):
    """``csv`` or ``xlsx`` from the file name; ImportFileError for anything else."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in FORMATS:
        raise ImportFileError(f"file: {filename!r} is neither .csv nor .xlsx", field="file")
    return suffix


def decode(raw):
    """(text, encoding) of CSV bytes: UTF-8 (a BOM dropped), else GB18030 (GBK's superset)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError("file: the text is neither UTF-8 nor GB18030/GBK", field="file")


def read_table(path, format):
    """The Table of the file at ``path``; ImportFileError when it has no header row."""
    table = _read_csv(path) if format == "csv" else _read_xlsx(path)
    if not any(str(cell).strip() for cell in table.header):
        raise ImportFileError("file: the first row (the header) is empty", field="file")
    return table


def _read_csv(path):
    with open(path, "rb") as handle:
        text, encoding = decode(handle.read())
    try:
        dialect = csv.Sniffer().sniff(text[:_SNIFF_BYTES], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(reader, None)
    if header is None:
        raise ImportFileError("file: the file is empty", field="file")

    def rows():
        for number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                yield number, [_csv_cell(cell) for cell in cells]

    return Table([cell.strip() for cell in header], rows(), encoding)


def _csv_cell(text):
    # "=..." is what a spreadsheet evaluates on opening; "+86 ..." and "-" are data here
    return Formula(text) if text.lstrip().startswith("=") else text


def _read_xlsx(path):
    try:
        # data_only=False: a formula cell reads as its "=..." text, never as a cached result
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML errors for a bad file
        raise ImportFileError(f"file: not a readable .xlsx workbook ({exc.__class__.__name__})",
                              field="file") from None
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    first = next(values, None)
    if first is None:
        book.close()
        raise ImportFileError("file: the first sheet is empty", field="file")

    def rows():
        try:
            for number, cells in enumerate(values, start=2):
                texts = [_xlsx_cell(cell) for cell in cells]
                if any(str(text).strip() for text in texts):
                    yield number, texts
        finally:
            book.close()

    return Table([_xlsx_cell(cell) if cell is not None else "" for cell in first], rows())


def _xlsx_cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return Formula(value) if value.startswith("=") else value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed as a number: 13800138000.0
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def preview(path, format, limit=PREVIEW_ROWS):
    """(header, the first ``limit`` rows as text, encoding) for the mapping page."""
    table = read_table(path, format)
    shown = []
    for _, cells in table.rows:
        shown.append([str(cell) for cell in cells])
        if len(shown) >= limit:
            break
    return table.header, shown, table.encoding


def fold(header):
    """A header as compared with the synonyms: lowercased, without spaces, _ and -."""
    return _FOLD.sub("", str(header).strip().lower())


def guess_mapping(header, custom_definitions, template=None):
    """A target for each column: the template's for its header, else by the header's words."""
    known = {}
    for target, words in SYNONYMS.items():
        for word in words:
            known.setdefault(fold(word), target)
    for definition in custom_definitions:
        for word in (definition.key, definition.label):
            known[fold(word)] = f"custom.{definition.key}"
    guessed = []
    for cell in header:
        if template and str(cell) in template:
            guessed.append(template[str(cell)])
        else:
            guessed.append(known.get(fold(cell), ""))
    return guessed


def check_mapping(mapping, header, custom_definitions):
    """The mapping (a target per column) checked; CrmError naming the column at fault."""
    allowed = set(TARGETS) | {f"custom.{row.key}" for row in custom_definitions} | {""}
    if len(mapping) != len(header):
        raise CrmError(f"mapping: {len(header)} columns, {len(mapping)} targets given",
                       field="mapping")
    seen = {}
    for index, target in enumerate(mapping):
        column = header[index] or f"column {index + 1}"
        if target not in allowed:
            raise CrmError(f"mapping: column {column!r} maps to unknown field {target!r}",
                           field=f"mapping.{index}")
        if target and target != "phones" and target in seen:
            raise CrmError(f"mapping: {target} is mapped twice ({seen[target]!r} and "
                           f"{column!r})", field=f"mapping.{index}")
        seen.setdefault(target, column)
    if "name" not in seen:
        raise CrmError("mapping: no column is mapped to name", field="mapping")
    return list(mapping)


def safe_cell(value):
    """A cell for a CSV others open in a spreadsheet: a leading = + - @ is quoted with '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def problems_csv(problems):
    """The problems (ImportProblem rows) as CSV text: row, column, kind, reason."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("row", "column", "kind", "reason"))
    for problem in problems:
        writer.writerow([problem.row_number, safe_cell(problem.column), problem.kind,
                         safe_cell(problem.reason)])
    return "\ufeff" + out.getvalue()  # the BOM makes Excel read UTF-8 Chinese correctly
