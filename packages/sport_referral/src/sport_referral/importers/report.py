"""Row-by-row import report, streaming text decoding with clear encoding errors, and the small
cell parsers shared by the importers (domain-sport §6).

The report lists every skipped row with its line number and **every** reason, the rows left out
on purpose (out of service, FINESS category not kept), warnings, duplicates and dropped personal
columns. ``all_or_nothing`` imports keep validating every row (so the report is complete) but
return no record when any row failed. Line numbers are physical line numbers in the file (the
header is line 1), so a user can open the file at that line.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import IO, Literal

import msgspec

from sport_referral.model.imports import ImportedStructure, ImportKey

__all__ = [
    "DuplicateRow",
    "ExcludedRow",
    "FileDecodeError",
    "ImportReport",
    "ImportResult",
    "ImportSource",
    "Issue",
    "ProgressCallback",
    "ReportBuilder",
    "RowContext",
    "SkippedRow",
    "decoded_lines",
    "parse_date",
    "split_multi",
]

ImportSource = bytes | str | IO[bytes] | IO[str]
ProgressCallback = Callable[[int, int | None], None]
PROGRESS_EVERY = 1000


class Issue(msgspec.Struct, frozen=True, kw_only=True):
    """One problem. ``line`` 0 = the whole file; ``field`` is the column or field name."""

    line: int
    code: str
    message: str
    field: str | None = None


class SkippedRow(msgspec.Struct, frozen=True, kw_only=True):
    """A row that was not imported because it is invalid, with every reason."""

    line: int
    source_ref: str | None
    reasons: tuple[Issue, ...]


class ExcludedRow(msgspec.Struct, frozen=True, kw_only=True):
    """A valid row left out on purpose (out of service, category not kept): not a failure."""

    line: int
    source_ref: str | None
    code: str
    message: str


class DuplicateRow(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    first_line: int
    key: str


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    format: str
    variant: str | None
    encoding: str | None
    delimiter: str | None
    rows_read: int
    rows_imported: int
    skipped: tuple[SkippedRow, ...]
    excluded: tuple[ExcludedRow, ...]
    excluded_counts: dict[str, int]
    warnings: tuple[Issue, ...]
    file_errors: tuple[Issue, ...]
    duplicates: tuple[DuplicateRow, ...]
    dropped_columns: tuple[str, ...]
    ignored_columns: tuple[str, ...]
    multi_value_separators: tuple[str, ...]
    all_or_nothing: bool
    aborted: bool

    @property
    def ok(self) -> bool:
        """No file error, no skipped row."""
        return not self.file_errors and not self.skipped

    def lines(self) -> list[str]:
        """A human-readable report, one problem a line (for the CLI and the admin page)."""
        out = [f"{self.format}{f' ({self.variant})' if self.variant else ''}: {self.rows_read} rows read, "
               f"{self.rows_imported} imported, {len(self.skipped)} skipped, "
               f"{sum(self.excluded_counts.values())} left out, "
               f"{len(self.warnings)} warnings"]
        if self.aborted:
            out.append("all-or-nothing: nothing imported because at least one row failed")
        out += [f"file error (line {issue.line}): {issue.message}" for issue in self.file_errors]
        for row in self.skipped:
            for reason in row.reasons:
                where = f" [{reason.field}]" if reason.field else ""
                out.append(f"line {row.line}: skipped{where}: {reason.message}")
        out += [f"line {row.line}: left out: {row.message}" for row in self.excluded]
        out += [f"line {issue.line}: warning: {issue.message}" for issue in self.warnings]
        return out


class ImportResult(msgspec.Struct, frozen=True, kw_only=True):
    """Records (empty after a file error or an all-or-nothing abort), their keys, the report."""

    records: tuple[ImportedStructure, ...]
    keys: tuple[ImportKey, ...]
    report: ImportReport

    @property
    def ok(self) -> bool:
        return self.report.ok


class FileDecodeError(Exception):
    """The bytes cannot be read as text with the (declared or detected) encoding."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


class RowContext:
    """Collects the errors and warnings of one row."""

    def __init__(self, line: int) -> None:
        self.line = line
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def error(self, code: str, message: str, field: str | None = None) -> None:
        self.errors.append(Issue(line=self.line, code=code, message=message, field=field))

    def warning(self, code: str, message: str, field: str | None = None) -> None:
        self.warnings.append(Issue(line=self.line, code=code, message=message, field=field))


class ReportBuilder:
    """Mutable accumulator used while a file is read; :meth:`result` freezes it."""

    def __init__(self, fmt: str, *, all_or_nothing: bool, progress: ProgressCallback | None = None,
                 total: int | None = None) -> None:
        self.format = fmt
        self.variant: str | None = None
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.all_or_nothing = all_or_nothing
        self.rows_read = 0
        self.records: list[ImportedStructure] = []
        self.skipped: list[SkippedRow] = []
        self.excluded: list[ExcludedRow] = []
        self.excluded_counts: dict[str, int] = {}
        self.warnings: list[Issue] = []
        self.file_errors: list[Issue] = []
        self.duplicates: list[DuplicateRow] = []
        self.dropped_columns: list[str] = []
        self.ignored_columns: list[str] = []
        self.separators: set[str] = set()
        self._seen: dict[str, int] = {}
        self._file_warning_codes: set[str] = set()
        self._progress = progress
        self._total = total

    def file_error(self, line: int, code: str, message: str) -> None:
        self.file_errors.append(Issue(line=line, code=code, message=message))

    def file_warning(self, code: str, message: str, *, once: bool = True, line: int = 0) -> None:
        if once and code in self._file_warning_codes:
            return
        self._file_warning_codes.add(code)
        self.warnings.append(Issue(line=line, code=code, message=message))

    def row_read(self) -> None:
        self.rows_read += 1
        if self._progress is not None and self.rows_read % PROGRESS_EVERY == 0:
            self._progress(self.rows_read, self._total)

    def exclude(self, line: int, source_ref: str | None, code: str, message: str, *, itemize: bool = True) -> None:
        """A row left out on purpose; ``itemize=False`` only counts it (e.g. the ~90,000 FINESS rows
        of categories that are not kept)."""
        self.excluded_counts[code] = self.excluded_counts.get(code, 0) + 1
        if itemize:
            self.excluded.append(ExcludedRow(line=line, source_ref=source_ref, code=code, message=message))

    def finish_row(self, row: RowContext, record: ImportedStructure | None, source_ref: str | None,
                   duplicate_key: str | None = None) -> None:
        """Record a row's outcome: imported when it has a record and no error, else skipped."""
        if duplicate_key is not None:
            first = self._seen.get(duplicate_key)
            if first is not None:
                self.duplicates.append(DuplicateRow(line=row.line, first_line=first, key=duplicate_key))
                row.error("duplicate", f"duplicate of line {first} ({duplicate_key})")
            else:
                self._seen[duplicate_key] = row.line
        self.warnings.extend(row.warnings)
        if row.errors or record is None:
            self.skipped.append(SkippedRow(line=row.line, source_ref=source_ref, reasons=tuple(row.errors)))
        else:
            self.records.append(record)

    def result(self) -> ImportResult:
        if self._progress is not None:
            self._progress(self.rows_read, self._total if self._total is not None else self.rows_read)
        aborted = bool(self.all_or_nothing and (self.skipped or self.file_errors))
        records = () if (aborted or self.file_errors) else tuple(self.records)
        report = ImportReport(
            format=self.format, variant=self.variant, encoding=self.encoding, delimiter=self.delimiter,
            rows_read=self.rows_read, rows_imported=len(records), skipped=tuple(self.skipped),
            excluded=tuple(self.excluded), excluded_counts=dict(self.excluded_counts),
            warnings=tuple(self.warnings), file_errors=tuple(self.file_errors),
            duplicates=tuple(self.duplicates), dropped_columns=tuple(self.dropped_columns),
            ignored_columns=tuple(self.ignored_columns), multi_value_separators=tuple(sorted(self.separators)),
            all_or_nothing=self.all_or_nothing, aborted=aborted,
        )
        return ImportResult(records=records, keys=tuple(record.key for record in records), report=report)


# ----------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------

_SINGLE_BYTE = frozenset({"latin_1", "iso8859_15", "cp1252", "iso8859_1"})


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name.replace("-", "_")
    except LookupError:
        raise FileDecodeError(0, f"unknown encoding {encoding!r}") from None


def _has_utf8_multibyte(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not text.isascii()


def _binary_lines(source: bytes | IO[bytes]) -> Iterator[bytes]:
    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source
    yield from stream


def decoded_lines(source: ImportSource, encoding: str, *, fallback: str | None = None,
                  on_encoding: Callable[[str], None] | None = None) -> Iterator[str]:
    """Decode a byte stream line by line (streaming), raising :class:`FileDecodeError` with the line
    number on the first undecodable line. Text input is passed through (a BOM is dropped).

    ``encoding="auto"`` reads UTF-8 and switches to ``fallback`` (e.g. ISO-8859-15) when a line is
    not UTF-8 and no earlier line used UTF-8 multi-byte characters. A file declared in a
    single-byte encoding whose first non-ASCII line is valid UTF-8 is refused: it is almost surely
    UTF-8, and reading it as Latin-1 would corrupt every accent ("Ã©" for "é").
    """
    if isinstance(source, str) or (not isinstance(source, bytes) and isinstance(source, io.TextIOBase)):
        text_lines: Iterator[str] = iter(io.StringIO(source, newline="")) if isinstance(source, str) else iter(source)
        if on_encoding:
            on_encoding("text")
        for number, line in enumerate(text_lines, start=1):
            yield line.lstrip("\ufeff") if number == 1 else line
        return
    binary = _binary_lines(source)  # type: ignore[arg-type]
    auto = encoding == "auto"
    current = "utf_8" if auto else _codec_name(encoding)
    if on_encoding:
        on_encoding(current if not auto else "utf_8")
    seen_multibyte = False
    checked_single_byte = False
    for number, raw_line in enumerate(binary, start=1):
        raw = raw_line
        if number == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise FileDecodeError(1, "the file is UTF-16 (byte-order mark found); save it as UTF-8")
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
                if current in _SINGLE_BYTE:
                    raise FileDecodeError(1, f"the file was declared {encoding} but starts with a UTF-8 byte-order "
                                             "mark; read it as UTF-8")
        if b"\x00" in raw:
            raise FileDecodeError(number, "NUL byte found: this is not a text file (or it is UTF-16)")
        if raw.isascii():
            yield raw.decode("ascii")
            continue
        if current in _SINGLE_BYTE and not checked_single_byte:
            checked_single_byte = True
            if _has_utf8_multibyte(raw):
                sample = raw.decode("utf-8").strip()[:60]
                raise FileDecodeError(number, f"the file was declared {encoding} but this line is valid UTF-8 "
                                              f"({sample!r}); read it as UTF-8")
        try:
            text = raw.decode(current)
        except UnicodeDecodeError as error:
            bad = raw[error.start:error.start + 4]
            if auto and not seen_multibyte and fallback is not None:
                current = _codec_name(fallback)
                checked_single_byte = True
                if on_encoding:
                    on_encoding(current)
                yield raw.decode(current)
                continue
            hint = f"; the file may be {fallback or 'ISO-8859-15 / Windows-1252'}" if current == "utf_8" else ""
            raise FileDecodeError(number, f"byte(s) {bad.hex(' ')} at column {error.start + 1} cannot be "
                                          f"decoded as {current}{hint}") from None
        if current == "utf_8":
            seen_multibyte = True
        yield text


# ----------------------------------------------------------------------------------------------
# Cell parsers
# ----------------------------------------------------------------------------------------------

_MULTI_SPLIT = re.compile(r"[,;]")


def split_multi(value: str, separators: str = ",;") -> tuple[list[str], set[str]]:
    """D-2: split on the separators, trim, drop empties, de-duplicate (first spelling kept).
    Returns the values and the separators seen."""
    seen = {char for char in separators if char in value}
    pattern = _MULTI_SPLIT if separators == ",;" else re.compile("[" + re.escape(separators) + "]")
    out: list[str] = []
    keys: set[str] = set()
    for part in pattern.split(value):
        item = " ".join(part.split())
        if item and item.casefold() not in keys:
            keys.add(item.casefold())
            out.append(item)
    return out, seen


DateStyle = Literal["iso", "any"]


def parse_date(value: str, style: DateStyle = "any") -> date | None:
    """``YYYY-MM-DD`` (also an ISO datetime); with ``any`` also ``DD/MM/YYYY``. None when unreadable."""
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 10 and text[4] == "-":
            return date.fromisoformat(text)
        if style == "any" and len(text) == 10 and text[2] == "/" and text[5] == "/":
            return date(int(text[6:]), int(text[3:5]), int(text[:2]))
        if len(text) > 10 and text[4] == "-" and text[10] in "T ":
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None
    return None
