"""The shipped catalogue, its provenance markers, and locally loaded licensed wording."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from shared_core.scales import CatalogueError, load_catalogue, score
from shared_core.scales.loader import parse_definition

CATALOGUE = load_catalogue()
ALL_CODES = ["bdi2", "cssrs_screen", "gad7", "hads", "hamd17", "madrs", "phq9", "qids_sr16", "ricci_gagnon",
             "who5", "ymrs"]


def shipped_yaml(code: str) -> str:
    return resources.files("shared_core.scales").joinpath("catalogue", f"{code}.yaml").read_text("utf-8")


def test_codes_are_complete_and_stable() -> None:
    assert CATALOGUE.codes() == ALL_CODES
    assert [d.code for d in CATALOGUE.all()] == ALL_CODES
    assert load_catalogue().codes() == ALL_CODES
    assert "phq9" in CATALOGUE and len(CATALOGUE) == 11


def test_unknown_code_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        CATALOGUE.get("nope")


def test_phq9_and_gad7_ship_wording_and_codes() -> None:
    phq9 = CATALOGUE.get("phq9")
    assert phq9.text_available("fr") and phq9.text_available("en")
    assert [a.label_fr for a in phq9.items[0].answers] == [
        "Jamais", "Plusieurs jours", "Plus de la moitié du temps", "Presque tous les jours"]
    assert [a.label_en for a in phq9.items[8].answers] == [
        "Not at all", "Several days", "More than half the days", "Nearly every day"]
    assert (phq9.loinc_panel, phq9.loinc_total) == ("44249-1", "44261-6")
    assert [i.loinc for i in phq9.items[:7]] == ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7",
                                                 "44258-2", "44252-5"]
    assert "loinc_items_8_9" in phq9.to_verify
    gad7 = CATALOGUE.get("gad7")
    assert (gad7.loinc_panel, gad7.loinc_total) == ("69737-5", "70274-6")
    assert gad7.text_available("fr") and gad7.licence.text_shipped


def test_licensed_scales_ship_no_wording() -> None:
    for code in ("madrs", "hamd17", "qids_sr16", "bdi2", "hads", "ymrs", "cssrs_screen", "ricci_gagnon"):
        definition = CATALOGUE.get(code)
        assert not definition.licence.text_shipped
        assert all(i.text_fr is None and i.text_en is None for i in definition.items)
        assert all(i.short_label_fr and i.short_label_en for i in definition.items)
        assert not definition.text_available("fr")


def test_text_shipped_flag_matches_the_wording() -> None:
    for definition in CATALOGUE.all():
        shipped = definition.licence.text_shipped
        assert shipped == definition.text_available("fr") == definition.text_available("en")


def test_labels_named_in_the_brief() -> None:
    madrs = CATALOGUE.get("madrs")
    labels = [(i.short_label_fr, i.short_label_en) for i in madrs.items]
    assert labels[0] == ("Tristesse apparente", "Apparent sadness")
    assert labels[9] == ("Idées de suicide", "Suicidal thoughts")
    hamd = CATALOGUE.get("hamd17")
    assert (hamd.items[0].short_label_fr, hamd.items[2].short_label_fr) == ("Humeur dépressive", "Suicide")
    who5 = CATALOGUE.get("who5")
    assert [(a.value, a.label_fr) for a in (who5.items[0].answers[0], who5.items[0].answers[-1])] == [
        (5, "Tout le temps"), (0, "Jamais")]
    assert CATALOGUE.get("hads").snomed == "273524006"
    assert CATALOGUE.get("cssrs_screen").loinc_panel == "93373-9"


def test_every_definition_carries_provenance() -> None:
    for definition in CATALOGUE.all():
        assert {"items", "scoring", "bands", "licence", "window"} <= definition.provenance.keys()
        assert definition.sources
        for alert in definition.alerts:
            assert alert.source and alert.confidence in ("verified", "to_verify", "conflict", "design")


def test_to_verify_values_are_listed() -> None:
    assert "remission_max" in CATALOGUE.get("madrs").to_verify
    assert "alerts.suicidal_ideation" in CATALOGUE.get("phq9").to_verify
    assert "bands" in CATALOGUE.get("bdi2").to_verify
    assert "proration" in CATALOGUE.get("hads").to_verify
    assert {"items", "scoring", "bands", "skip_rules[0]"} <= set(CATALOGUE.get("ricci_gagnon").to_verify)
    assert "risk_rules.high" in CATALOGUE.get("cssrs_screen").to_verify
    assert CATALOGUE.get("hamd17").provenance["bands"].confidence == "conflict"
    assert "remission_max" not in CATALOGUE.get("qids_sr16").to_verify  # verified (STAR*D)


def test_only_hads_prorates() -> None:
    assert [d.code for d in CATALOGUE.all() if d.proration is not None] == ["hads"]


def test_catalogue_checks_catch_a_broken_file() -> None:
    broken = shipped_yaml("phq9").replace("{code: mild, min: 5,", "{code: mild, min: 6,")
    with pytest.raises(CatalogueError, match=r"broken\.yaml: .*not contiguous"):
        parse_definition(broken, "broken.yaml")
    typo = shipped_yaml("gad7").replace("remission_max: 4", "remision_max: 4")
    with pytest.raises(CatalogueError, match="remision_max"):
        parse_definition(typo, "typo.yaml")
    no_source = shipped_yaml("madrs").replace("  remission_max: {", "  other: {")
    with pytest.raises(CatalogueError, match="no provenance for remission_max"):
        parse_definition(no_source, "madrs.yaml")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


MADRS_FR = "items:\n" + "".join(f"  {n}: \"Libellé {n}\"\n" for n in range(1, 11)) + (
    "item_answers:\n  1: {0: \"Pas de tristesse\", 6: \"Tristesse extrême\"}\n")


def test_local_text_fills_the_wording(tmp_path: Path) -> None:
    write(tmp_path / "madrs" / "fr.yaml", MADRS_FR)
    madrs = load_catalogue(tmp_path).get("madrs")
    assert madrs.items[3].text_fr == "Libellé 4"
    assert madrs.items[3].text_en is None
    assert [(a.value, a.label_fr, a.label_en) for a in madrs.items[0].answers] == [
        (0, "Pas de tristesse", None), (6, "Tristesse extrême", None)]
    assert madrs.text_available("fr") and not madrs.text_available("en")
    # Scoring and the shipped catalogue are unaffected.
    assert score(madrs, [1] * 10).total == 10
    assert CATALOGUE.get("madrs").items[3].text_fr is None


def test_local_text_in_both_languages_with_shared_answers(tmp_path: Path) -> None:
    for lang in ("fr", "en"):
        items = "".join(f"  {n}: \"{lang} {n}\"\n" for n in range(1, 15))
        answers = ", ".join(f"{v}: {lang}{v}" for v in range(4))
        text = f"stem: \"{lang} stem\"\nitems:\n{items}answers: {{{answers}}}\n"
        write(tmp_path / "hads" / f"{lang}.yaml", text)
    hads = load_catalogue(tmp_path).get("hads")
    assert hads.text_available("fr") and hads.text_available("en")
    assert (hads.stem_fr, hads.stem_en) == ("fr stem", "en stem")
    assert [(a.label_fr, a.label_en) for a in hads.items[13].answers][3] == ("fr3", "en3")


def test_partial_local_text_is_not_available(tmp_path: Path) -> None:
    write(tmp_path / "bdi2" / "fr.yaml", "items:\n  1: \"Seulement le premier\"\n")
    bdi = load_catalogue(tmp_path).get("bdi2")
    assert bdi.items[0].text_fr == "Seulement le premier"
    assert not bdi.text_available("fr")


def test_missing_text_dir_or_file_loads_nothing(tmp_path: Path) -> None:
    assert load_catalogue(tmp_path / "absent").get("madrs").items[0].text_fr is None
    (tmp_path / "madrs").mkdir()
    assert load_catalogue(tmp_path).get("madrs").items[0].text_fr is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("items: [unclosed", "while parsing"),
        ("- just a list\n", "expected a mapping"),
        ("items:\n  11: \"trop\"\n", "item 11 does not exist"),
        ("items:\n  one: \"un\"\n", "'one' is not a number"),
        ("items:\n  1: \"\"\n", "must be non-empty text"),
        ("items:\n  1: \"x\"\nanswers: {7: \"hors échelle\"}\n", "answer values [7] outside 0–6"),
        ("items:\n  1: \"x\"\nlabels: {}\n", "unknown keys ['labels']"),
        ("items:\n  1: \"x\"\nstem: [1]\n", "stem must be a string"),
    ],
)
def test_malformed_local_text_names_the_file(tmp_path: Path, content: str, problem: str) -> None:
    path = write(tmp_path / "madrs" / "fr.yaml", content)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path)
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)


def test_rules_modules_load_neither_yaml_nor_the_database() -> None:
    code = ("import sys, shared_core.rules.scoring, shared_core.rules.progress; "
            "print(sorted(m for m in ('yaml', 'sqlalchemy', 'shared_core.scales') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
