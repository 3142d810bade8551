"""In-process timing of the calculators (quality bar: at most 1 ms per call).

Usage: ``python -m bench.calculators`` (or ``python3 tools/nox.py -s bench``). Prints a Markdown
table and writes ``bench/out/calculators.json`` with the figures and the commit.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import timeit
from collections.abc import Callable
from pathlib import Path

from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.rules.course_plan_api import contract_preview
from rtms_pathway.rules.progress_api import parse_contract_progress, progress_contract
from rtms_pathway.rules.triage_api import run_contract_triage
from shared_core.scales import load_catalogue, score

BAR_SECONDS = 0.001
CALLS = 2_000
REPEATS = 5
OUT = Path(__file__).parent / "out" / "calculators.json"

TRIAGE_BODY = {
    "diagnosis": "bipolar_i", "psychotic_features": False, "catatonia": False, "suicide_risk": "low",
    "failed_adequate_trials": 2, "episode_months": 14, "anxiety_comorbidity": True, "substance_use": ["alcohol"],
    "mood_stabilizer": True, "safety_findings": [], "medications": ["lorazepam", "lithium"],
    "patient_preference": "rtms",
}
PLAN_BODY = {"protocol": "hf_left_10hz", "start": "2026-04-27", "induction_sessions": 30, "holiday_zone": "metropole"}
PROGRESS_BODY = {"scale": "madrs", "baseline": 32, "current": 26, "sessions_completed": 10}


def _cases() -> dict[str, Callable[[], object]]:
    scales = load_catalogue()
    phq9 = scales.get("phq9")
    clinical = load_clinical_catalogues()
    return {
        "score a scale (phq9)": lambda: score(phq9, [2, 3, 2, 2, 1, 2, 1, 1, 1]),
        "triage (contract body)": lambda: run_contract_triage(TRIAGE_BODY, clinical),
        "course-plan preview (30 sessions)": lambda: contract_preview(PLAN_BODY),
        "progress checkpoint": lambda: progress_contract(parse_contract_progress(PROGRESS_BODY, scales), scales),
    }


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    timings = {name: min(timeit.repeat(case, number=CALLS, repeat=REPEATS)) / CALLS
               for name, case in _cases().items()}
    print("| operation | µs per call | bar (µs) | within |")
    print("|---|---|---|---|")
    for name, seconds in timings.items():
        within = "yes" if seconds <= BAR_SECONDS else "NO"
        print(f"| {name} | {seconds * 1e6:.1f} | {BAR_SECONDS * 1e6:.0f} | {within} |")
    results = [{"operation": name, "seconds_per_call": seconds, "bar_seconds": BAR_SECONDS,
                "within_bar": seconds <= BAR_SECONDS} for name, seconds in timings.items()]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"commit": _commit(), "measured_at": dt.datetime.now(dt.UTC).isoformat(),
                               "calls": CALLS, "repeats": REPEATS, "results": results}, indent=2))
    print(f"\nwritten to {OUT}")


if __name__ == "__main__":
    main()
