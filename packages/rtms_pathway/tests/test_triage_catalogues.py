"""The clinical data files: shipped values, §13 [to verify] markers, strict loading, rules purity."""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from rtms_pathway.catalogue.loader_clinical import (
    ClinicalCatalogueError,
    iter_settings,
    load_clinical_catalogues,
    load_clinical_settings,
    parse_clinical_settings,
    parse_drug_catalogue,
    parse_screening_catalogue,
)

CAT = load_clinical_catalogues()
S = CAT.settings
FOLDER = resources.files("rtms_pathway.catalogue")


def raw(name: str) -> dict[str, Any]:
    data = yaml.safe_load(FOLDER.joinpath(name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_shipped_files_load() -> None:
    assert len(CAT.screening.items) == 23 and len(CAT.screening.rules) == 27
    assert len(CAT.drugs.drugs) >= 70
    assert S.version == CAT.screening.version == CAT.drugs.version == "2026.1"


def test_loading_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "site_settings.yaml"
    path.write_text(FOLDER.joinpath("triage_settings.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_clinical_settings(path) == S


# ---------------------------------------------------------------------------------------------
# Defaults of the doc, and the §13 items of triage, screening and medication marked to_verify
# ---------------------------------------------------------------------------------------------


def test_default_values_match_the_doc() -> None:
    t = S.triage
    assert t.chronic_episode_months.value == 24
    assert t.anxiety_gad7_threshold.value == 10
    assert (t.low_resistance_min_failures.value, t.low_resistance_max_failures.value) == (1, 2)
    assert t.high_resistance_definition.value == "mtr_mdd"
    assert t.high_resistance_msm_min.value == 11
    assert S.medication.recent_change_days.value == 14
    assert S.medication.relative_combo_signoff.value is True
    assert S.medication.relative_combo_min_count.value == 2
    assert S.mt.high_risk_interval_days.value == 3
    assert S.safety.screening_validity_days.value == 90
    assert S.checkin.substance_window_hours.value == 24
    assert S.safety.block_override_cosign.value is True
    assert S.protocol.default_ranking.value == ("hf_left_10hz", "itbs_left", "deep_tms_h1", "lf_right_1hz")


# §13 rows of this area -> the settings that must stay to_verify until closed.
SETTINGS_TO_VERIFY = {
    "#5 mt.high_risk_interval_days = 3": "mt.high_risk_interval_days",
    "#5 med.recent_change_days = 14": "medication.recent_change_days",
    "#5 >= 2 relative drugs -> sign-off": "medication.relative_combo_signoff",
    "#5 >= 2 relative drugs (count)": "medication.relative_combo_min_count",
    "#6 check-in substance window 24 h": "checkin.substance_window_hours",
    "#6 screening validity 90 days": "safety.screening_validity_days",
    "#7 GAD-7 >= 10 at triage": "triage.anxiety_gad7_threshold",
    "#8 high-resistance definition": "triage.high_resistance_definition",
    "#8 MSM >= 11 alternative": "triage.high_resistance_msm_min",
    "#8 MTR-MDD criteria (antidepressants)": "triage.mtr_mdd_min_antidepressant_failures",
    "#8 MTR-MDD criteria (augmentation)": "triage.mtr_mdd_min_augmentation_failures",
    "#8 MTR-MDD criteria (psychotherapy)": "triage.mtr_mdd_min_psychotherapy_failures",
    "R-TRI-04 C-SSRS HIGH -> urgent": "triage.cssrs_high_maps_to_urgent",
    "R-PRO-03 iTBS as high frequency": "protocol.itbs_counts_as_high_frequency",
    "design fallback of R-TRI-08": "triage.high_resistance_fallback_min_failures",
}


@pytest.mark.parametrize(("item", "dotted"), SETTINGS_TO_VERIFY.items())
def test_section_13_settings_are_to_verify(item: str, dotted: str) -> None:
    settings = dict(iter_settings(S))
    assert settings[dotted].confidence == "to_verify", item


def test_every_setting_cites_its_doc_section() -> None:
    for dotted, setting in iter_settings(S):
        assert setting.section.startswith("§") or setting.section.startswith("api-contract"), dotted


def test_section_13_item_1_ifcn_wording_and_levels() -> None:
    for item in CAT.screening.items:
        if item.group == "ifcn":
            assert item.wording_confidence == "to_verify", item.code
    rules = {r.id: r for r in CAT.screening.rules}
    for rule_id in ("SAF-IFCN-04-HEARING", "SAF-IFCN-10-INFUSION", "SAF-IFCN-13-SHUNT-PROGRAMMABLE"):
        assert rules[rule_id].confidence == "to_verify", rule_id


def drug_cell(inn: str, field: str) -> Any:
    return getattr(CAT.drugs.drugs[inn], field)


# §13 #2: categories of the Rossi 2009 table still to transcribe.
CATEGORY_TO_VERIFY = [
    "lithium", "mirtazapine", "mianserin", "agomelatine", "vortioxetine", "moclobemide", "ketamine", "esketamine",
    "methylphenidate", "modafinil", "amfetamine", "tramadol", "theophylline", "imipenem", "metronidazole",
    "isoniazid", "chloroquine", "mefloquine", "ciclosporin", "cocaine", "mdma", "ghb", "phencyclidine",
    "amitriptyline", "imipramine", "nortriptyline", "doxepin", "escitalopram", "duloxetine", "donepezil",
    "rivastigmine", "phenobarbital",
]


@pytest.mark.parametrize("inn", CATEGORY_TO_VERIFY)
def test_section_13_item_2_drug_categories(inn: str) -> None:
    assert drug_cell(inn, "seizure_threshold_lowering").confidence == "to_verify"


def test_section_13_item_2_withdrawal_states_and_z_drugs() -> None:
    benzos = [inn for inn, d in CAT.drugs.drugs.items() if d.drug_class == "benzodiazepines"]
    assert {"lorazepam", "zolpidem", "zopiclone"} <= set(benzos)
    for inn in benzos:
        assert drug_cell(inn, "withdrawal_lowers_threshold").confidence == "to_verify", inn
    for inn in ("zolpidem", "zopiclone"):
        assert drug_cell(inn, "mt_raising").confidence == "to_verify"
    assert drug_cell("phenobarbital", "withdrawal_lowers_threshold").confidence == "to_verify"


def test_section_13_item_3_benzodiazepine_half_life() -> None:
    for inn, drug in CAT.drugs.drugs.items():
        if drug.drug_class == "benzodiazepines":
            assert drug.half_life_class is not None and drug.half_life_class.confidence == "to_verify", inn


def test_section_13_item_4_mt_raising_per_antiepileptic() -> None:
    antiepileptics = [inn for inn, d in CAT.drugs.drugs.items() if d.drug_class == "antiepileptics"]
    assert len(antiepileptics) == 8
    for inn in antiepileptics:
        cell = drug_cell(inn, "mt_raising")
        assert (cell.value, cell.confidence) == ("yes", "to_verify"), inn


def test_relative_hazard_precaution_and_display_action_are_to_verify() -> None:
    assert S.precautions["seizure_threshold_medication_relative"].confidence == "to_verify"
    assert CAT.drugs.actions["A3"].confidence == "to_verify"


def test_conflicts_are_marked_with_both_sides() -> None:
    for inn in ("olanzapine", "quetiapine", "haloperidol"):
        cell = drug_cell(inn, "seizure_threshold_lowering")
        assert cell.confidence == "conflict" and "PISANI02" in cell.note
    assert drug_cell("lorazepam", "efficacy_effect").confidence == "conflict"
    assert "CAULFIELD20" in drug_cell("lorazepam", "efficacy_effect").sources
    conflicts = {r.id for r in CAT.screening.rules if r.confidence == "conflict"}
    assert conflicts == {"SAF-IFCN-05-PREGNANCY", "SAF-IFCN-13-SHUNT", "SAF-SITE-METALLIC-TATTOO",
                         "SAF-SITE-RECENT-SEIZURE-AED"}


def test_verified_anchors_of_the_drug_table() -> None:
    for inn in ("clozapine", "clomipramine", "maprotiline", "chlorpromazine", "ethanol"):
        cell = drug_cell(inn, "seizure_threshold_lowering")
        assert (cell.value, cell.confidence) == ("strong", "verified"), inn
    assert drug_cell("trazodone", "seizure_threshold_lowering").confidence == "verified"


def test_every_yaml_boolean_like_value_is_typed() -> None:
    # mt_raising holds the strings "yes"/"no": an unquoted YAML yes would be a bool and must fail.
    for drug in CAT.drugs.drugs.values():
        assert drug.mt_raising.value in ("yes", "no", "unknown")


# ---------------------------------------------------------------------------------------------
# Strict loading: unknown keys and broken references fail, naming the file and the key
# ---------------------------------------------------------------------------------------------


def test_unknown_settings_key_is_rejected() -> None:
    data = raw("triage_settings.yaml")
    data["triage"]["chronic_episode_months"]["vaule"] = 12
    with pytest.raises(ClinicalCatalogueError) as caught:
        parse_clinical_settings(dump(data))
    assert caught.value.file == "triage_settings.yaml"
    assert caught.value.key == "$.triage.chronic_episode_months"
    assert "vaule" in str(caught.value)


def test_unknown_settings_group_and_wrong_type() -> None:
    data = raw("triage_settings.yaml")
    data["triage"]["anxiety_gad7_threshold"]["value"] = "ten"
    with pytest.raises(ClinicalCatalogueError, match=r"triage_settings.yaml: \$.triage.anxiety_gad7_threshold.value"):
        parse_clinical_settings(dump(data))
    data = raw("triage_settings.yaml")
    data["scheduling"] = {}
    with pytest.raises(ClinicalCatalogueError, match="unknown field `scheduling`"):
        parse_clinical_settings(dump(data))


def test_missing_confidence_is_rejected() -> None:
    data = raw("triage_settings.yaml")
    del data["medication"]["recent_change_days"]["confidence"]
    with pytest.raises(ClinicalCatalogueError, match=r"\$.medication.recent_change_days"):
        parse_clinical_settings(dump(data))


def test_settings_cross_checks() -> None:
    data = raw("triage_settings.yaml")
    del data["precautions"]["monitor_manic_switch"]
    data["protocol"]["default_ranking"]["value"].append("unicorn_tms")
    data["contract"]["suicide_risk_map"]["value"].pop("low")
    data["triage"]["chronic_episode_months"]["sources"] = ["SEED", "NOPE99"]
    with pytest.raises(ClinicalCatalogueError) as caught:
        parse_clinical_settings(dump(data))
    message = str(caught.value)
    for fragment in ("monitor_manic_switch", "unicorn_tms", "suicide_risk_map", "NOPE99"):
        assert fragment in message


def test_unknown_screening_rule_key_is_rejected() -> None:
    data = raw("ifcn_screening.yaml")
    data["rules"][6]["levle"] = "INFO"
    with pytest.raises(ClinicalCatalogueError) as caught:
        parse_screening_catalogue(dump(data))
    assert (caught.value.file, caught.value.key) == ("ifcn_screening.yaml", "$.rules[6]")


def test_invalid_screening_level_names_the_key() -> None:
    data = raw("ifcn_screening.yaml")
    data["rules"][0]["level"] = "WARN"
    with pytest.raises(ClinicalCatalogueError, match=r"\$.rules\[0\].level"):
        parse_screening_catalogue(dump(data))


def test_screening_cross_checks() -> None:
    data = raw("ifcn_screening.yaml")
    data["rules"] = [r for r in data["rules"] if r["id"] != "SAF-IFCN-06-METAL-TITANIUM"]
    data["rules"][0]["item"] = "ifcn_q99_unicorn"
    data["items"][1]["aliases"].append({"code": "cochlear_implant"})
    data["checkin_items"].pop()
    with pytest.raises(ClinicalCatalogueError) as caught:
        parse_screening_catalogue(dump(data))
    message = str(caught.value)
    assert "no rule fires for yes with {'material': 'titanium'}" in message
    assert "unknown item 'ifcn_q99_unicorn'" in message
    assert "'cochlear_implant' already names" in message
    assert "metal_objects_removed" in message


def test_drug_table_rejects_unquoted_yes_and_unknown_references() -> None:
    text = FOLDER.joinpath("drugs.yaml").read_text(encoding="utf-8")
    broken = text.replace('mt_raising: {value: "yes"', "mt_raising: {value: yes", 1)
    with pytest.raises(ClinicalCatalogueError, match=r"drugs.yaml: \$.drugs.oxazepam.mt_raising.value: Expected `str`"):
        parse_drug_catalogue(broken)
    data = raw("drugs.yaml")
    data["drugs"]["clozapine"]["class"] = "miracle_pills"
    data["drugs"]["lithium"]["aliases"].append("clozapine")
    with pytest.raises(ClinicalCatalogueError) as caught:
        parse_drug_catalogue(dump(data))
    message = str(caught.value)
    assert "miracle_pills" in message and "'clozapine' already names 'clozapine'" in message
    data = raw("drugs.yaml")
    data["drugs"]["sertraline"]["actions"] = ["A3", "A11"]
    with pytest.raises(ClinicalCatalogueError, match=r"\$.drugs.sertraline.actions\[1\]: Invalid enum value 'A11'"):
        parse_drug_catalogue(dump(data))


def test_drug_table_rejects_unknown_keys() -> None:
    data = raw("drugs.yaml")
    data["drugs"]["lithium"]["seizure_treshold"] = "none"
    with pytest.raises(ClinicalCatalogueError, match=r"drugs.yaml: \$.drugs.lithium: .*seizure_treshold"):
        parse_drug_catalogue(dump(data))


def test_invalid_yaml_is_reported_with_the_file() -> None:
    with pytest.raises(ClinicalCatalogueError, match=r"^drugs.yaml: \$: invalid YAML"):
        parse_drug_catalogue("drugs: [unclosed")


# ---------------------------------------------------------------------------------------------
# Purity: rules modules import neither yaml nor a database layer
# ---------------------------------------------------------------------------------------------

RULES_DIR = Path(str(FOLDER)).parent / "rules"
MODULES = ("triage.py", "screening.py", "medication.py", "protocol_suggestions.py", "triage_api.py")
FORBIDDEN = ("yaml", "sqlalchemy", "shared_core.db", "shared_core.tables", "shared_core.services", "socket",
             "urllib", "http", "datetime.datetime.now")


@pytest.mark.parametrize("module", MODULES)
def test_rules_modules_do_no_io(module: str) -> None:
    tree = ast.parse((RULES_DIR / module).read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in ("now", "today", "open", "read_text"), f"{module}: {node.func.attr}()"
    for name in imported:
        assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), f"{module} imports {name}"
