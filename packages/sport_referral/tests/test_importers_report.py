"""Cross-format import behaviour: encodings, all-or-nothing, progress, streaming of a large file."""

import csv
import io
from pathlib import Path

import pytest

from sport_referral.geo import get_gazetteer
from sport_referral.importers import import_structures
from sport_referral.importers.dataes import import_dataes
from sport_referral.importers.parcours_format import import_parcours
from sport_referral.importers.report import FileDecodeError, decoded_lines, parse_date, split_multi

DATA = Path(__file__).parent / "data"
HEADER = "equip_numero;equip_nom;inst_numero;inst_nom;new_code;inst_cp;equip_coordonnees;equip_pmr_acc;equip_maj_date"


def test_undecodable_bytes_give_a_clear_error_naming_the_line() -> None:
    data = (HEADER + "\nE001I315550012;Gymnase;I315550012;Complexe;31555;31000;43.6, 1.44;true;2025-06-01\n"
            ).encode() + "E002I315550012;Salle d'activités;I315550012;Complexe;31555;31000;;;\n".encode("latin-1")
    result = import_dataes(data, get_gazetteer())
    assert result.records == ()
    error = result.report.file_errors[0]
    assert error.line == 3
    assert "cannot be decoded as utf_8" in error.message and "ISO-8859-15" in error.message
    assert "line 3" in result.report.lines()[1]


def test_utf8_declared_latin1_is_refused() -> None:
    data = (HEADER + "\nE001I315550012;Gymnase Émile;I315550012;Complexe;31555;31000;;;\n").encode()
    result = import_dataes(data, get_gazetteer(), encoding="latin-1")
    assert result.report.file_errors[0].line == 2
    assert "declared latin-1" in result.report.file_errors[0].message


def test_utf16_and_binary_are_refused() -> None:
    result = import_parcours("structure_id,kind\n".encode("utf-16"), get_gazetteer())
    assert "UTF-16" in result.report.file_errors[0].message
    with pytest.raises(FileDecodeError):
        list(decoded_lines(b"abc\n\x00\x01\n", "utf-8"))


def test_streams_and_text_are_accepted() -> None:
    raw = (DATA / "dataes_sample.csv").read_bytes()
    from_stream = import_dataes(io.BytesIO(raw), get_gazetteer())
    from_text = import_dataes(io.StringIO(raw.decode("utf-8-sig")), get_gazetteer())
    from_bytes = import_dataes(raw, get_gazetteer())
    assert from_stream.records == from_bytes.records == from_text.records


def test_all_or_nothing_on_dataes() -> None:
    result = import_dataes((DATA / "dataes_sample.csv").read_bytes(), get_gazetteer(), all_or_nothing=True)
    assert result.records == () and result.report.aborted
    assert len(result.report.skipped) == 3  # still reported in full
    assert not result.ok


def test_dispatch_by_format() -> None:
    for fmt, name in (("dataes", "dataes_sample.csv"), ("finess", "finess_sample_iso8859-15.csv"),
                      ("parcours", "parcours_directory.json")):
        result = import_structures((DATA / name).read_bytes(), fmt, get_gazetteer())
        assert result.report.format == fmt and result.records
    with pytest.raises(ValueError):
        import_structures(b"", "acceslibre", get_gazetteer())  # type: ignore[arg-type]


def _big_dataes(path: Path, rows: int) -> None:
    communes = [("31555", "31000", 43.6045, 1.4440), ("69387", "69007", 45.7510, 4.8412),
                ("2A004", "20000", 41.9192, 8.7386), ("97411", "97400", -20.8789, 55.4481),
                ("75111", "75011", 48.8590, 2.3800)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow([*HEADER.split(";"), "aps_name", "declarant_mail"])
        for i in range(rows):
            code, postcode, lat, lon = communes[i % len(communes)]
            inst = f"I{code}{i // 3 % 10000:04d}"
            writer.writerow([f"E{i % 1000:03d}{inst}", f"Équipement n°{i}", inst, "Installation", code, postcode,
                             f"{lat + (i % 7) * 0.001:.4f}, {lon:.4f}", ("true", "false", "")[i % 3], "2025-05-01",
                             "Football, Basket-Ball", f"person{i}@example.org"])


def test_sixty_thousand_rows_stream_with_progress(tmp_path: Path) -> None:
    path = tmp_path / "data-es.csv"
    _big_dataes(path, 60_000)
    calls: list[tuple[int, int | None]] = []
    with path.open("rb") as handle:
        result = import_dataes(handle, get_gazetteer(), progress=lambda done, total: calls.append((done, total)),
                               total=60_000)
    report = result.report
    assert report.rows_read == 60_000
    # Generated ids may collide: every row is either imported or skipped as a reported duplicate.
    assert report.rows_imported + len(report.skipped) == 60_000
    assert all(row.reasons[0].code == "duplicate" for row in report.skipped)
    assert report.dropped_columns == ("declarant_mail",)
    assert calls[0] == (1000, 60_000) and calls[-1] == (60_000, 60_000)
    assert len(calls) == 61


def test_cell_helpers() -> None:
    assert split_multi(" Judo ; judo, Karaté ,,") == (["Judo", "Karaté"], {";", ","})
    assert str(parse_date("2025-03-31")) == "2025-03-31"
    assert str(parse_date("31/03/2025")) == "2025-03-31"
    assert str(parse_date("2025-03-31T10:00:00Z")) == "2025-03-31"
    assert parse_date("31/03/2025", "iso") is None
    assert parse_date("demain") is None
