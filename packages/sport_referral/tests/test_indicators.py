"""Indicators and small-cell suppression (domain-sport §10, I-1..I-5)."""

import random
from datetime import date, timedelta
from fractions import Fraction

import pytest

from sport_referral.model.indicators import IndicatorSettings, ReferralFact, load_indicator_settings
from sport_referral.rules.indicators import Relation, compute_indicators, determined_hidden_cells, suppress

K = 11


# ---------------------------------------------------------------------------------------------
# Independent exact checker (I-3): dense Gaussian elimination over the rationals
# ---------------------------------------------------------------------------------------------


def exactly_determined(values, relations, status) -> set:
    """Hidden cells uniquely determined by the published cells (Fractions, RREF)."""
    hidden = sorted((key for key, state in status.items() if state), key=repr)
    column = {key: i for i, key in enumerate(hidden)}
    rows = []
    for relation in relations:
        row = [Fraction(0)] * len(hidden)
        used = False
        for key, coefficient in [(relation.total, -1)] + [(c, 1) for c in relation.components]:
            if key in column:
                row[column[key]] += coefficient
                used = True
        if used:
            rows.append(row)
    pivots = []
    r = 0
    for c in range(len(hidden)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        rows[r] = [x / rows[r][c] for x in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c] != 0:
                factor = rows[i][c]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r])]
        pivots.append(c)
        r += 1
    determined = set()
    for i, c in enumerate(pivots):
        if all(x == 0 for j, x in enumerate(rows[i]) if j != c):
            determined.add(hidden[c])
    return determined


def derivable_by_subtraction(values, relations, status) -> set:
    """Hidden cells recoverable from one relation whose other members are all published."""
    found = set()
    for relation in relations:
        members = (relation.total, *relation.components)
        hidden = [m for m in members if status[m]]
        if len(hidden) == 1:
            found.add(hidden[0])
    return found


def grid(rows: dict[str, dict[str, int]]):
    """A two-way table with margins: cells (row, col), totals (row, 'T'), ('T', col), ('T', 'T')."""
    values = {}
    cols = list(next(iter(rows.values())))
    for r, line in rows.items():
        for c, v in line.items():
            values[(r, c)] = v
        values[(r, "T")] = sum(line.values())
    for c in cols:
        values[("T", c)] = sum(line[c] for line in rows.values())
    values[("T", "T")] = sum(values[(r, "T")] for r in rows)
    relations = [Relation((r, "T"), tuple((r, c) for c in cols)) for r in [*rows, "T"]]
    relations += [Relation(("T", c), tuple((r, c) for r in rows)) for c in [*cols, "T"]]
    return values, relations


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


def test_worked_example_of_section_10_2() -> None:
    values, relations = grid({"31": {"none": 40, "minimal": 25, "moderate": 7, "severe": 12},
                              "32": {"none": 15, "minimal": 3, "moderate": 11, "severe": 0}})
    status = suppress(values, relations, K)
    hidden = {key: state for key, state in status.items() if state}
    assert hidden == {
        ("31", "moderate"): "primary", ("32", "minimal"): "primary",
        ("31", "severe"): "secondary", ("32", "moderate"): "secondary", ("31", "minimal"): "secondary",
        ("T", "severe"): "secondary", ("T", "moderate"): "secondary",
    }
    assert not exactly_determined(values, relations, status)
    assert not determined_hidden_cells(values, relations, set(hidden))


def test_naive_primary_suppression_is_undone_but_ours_is_not() -> None:
    values, relations = grid({"31": {"a": 30, "b": 4, "c": 25}, "32": {"a": 20, "b": 15, "c": 18}})
    naive = {key: ("primary" if 1 <= v <= K - 1 else "") for key, v in values.items()}
    # With primary suppression only, row 31 gives the hidden 4 back by subtraction: 59 − 30 − 25.
    leaked = derivable_by_subtraction(values, relations, naive)
    assert ("31", "b") in leaked
    assert values[("31", "T")] - values[("31", "a")] - values[("31", "c")] == values[("31", "b")]
    status = suppress(values, relations, K)
    assert status[("31", "b")] == "primary"
    assert not derivable_by_subtraction(values, relations, status)  # no row or column gives it away
    assert not exactly_determined(values, relations, status)  # nor any combination of them


def test_zero_cells_give_no_protection() -> None:
    values, relations = grid({"31": {"a": 5, "b": 0}, "32": {"a": 40, "b": 30}})
    status = suppress(values, relations, K)
    assert status[("31", "b")] == ""  # zero is shown and never chosen
    assert status[("31", "T")] != ""  # so the row total is hidden instead
    assert not exactly_determined(values, relations, status)


def test_audit_catches_what_the_one_hidden_rule_misses() -> None:
    # Every relation has two hidden members, so "exactly one hidden" never fires, yet
    # a + b = 7, a + c = 8 and b + c = 9 pin a = 3, b = 4, c = 5 (I-3).
    values = {"A": 57, "B": 68, "C": 79, "a": 3, "b": 4, "c": 5, "d": 50, "e": 60, "f": 70}
    relations = [Relation("A", ("a", "b", "d")), Relation("B", ("a", "c", "e")), Relation("C", ("b", "c", "f"))]
    naive = suppress(values, relations, K, audit=False)
    assert {key for key, state in naive.items() if state} == {"a", "b", "c"}
    assert exactly_determined(values, relations, naive) == {"a", "b", "c"}
    assert determined_hidden_cells(values, relations, {"a", "b", "c"}) == {"a", "b", "c"}
    status = suppress(values, relations, K)
    assert not exactly_determined(values, relations, status)
    assert {key for key, state in status.items() if state} > {"a", "b", "c"}


@pytest.mark.parametrize("seed", range(25))
def test_random_tables_never_leak(seed: int) -> None:
    rng = random.Random(seed)
    rows = {f"r{i}": {f"c{j}": rng.choice([0, 0, 1, 3, 7, 10, 11, 12, 25, 60]) for j in range(rng.randint(2, 5))}
            for i in range(rng.randint(2, 5))}
    cols = list(rows["r0"])
    rows = {r: {c: line.get(c, 0) for c in cols} for r, line in rows.items()}
    values, relations = grid(rows)
    status = suppress(values, relations, K)
    for key, value in values.items():
        if 1 <= value <= K - 1:
            assert status[key] == "primary"
    assert not derivable_by_subtraction(values, relations, status)
    assert not exactly_determined(values, relations, status)
    assert determined_hidden_cells(values, relations, {k for k, s in status.items() if s}) == set()


@pytest.mark.parametrize(("value", "hidden"), [(0, False), (1, True), (10, True), (11, False), (12, False)])
def test_k_boundary(value: int, hidden: bool) -> None:
    values = {"t": value + 100, "a": value, "b": 100}
    status = suppress(values, [Relation("t", ("a", "b"))], K)
    assert (status["a"] == "primary") is hidden


def test_k_comes_from_settings_and_is_to_verify() -> None:
    settings = load_indicator_settings()
    assert settings.k == 11 and settings.hide_zero is False
    assert settings.provenance["suppression.k"].status == "to_verify"
    with pytest.raises(ValueError):
        suppress({"a": 1}, [], 1)
    values = {"t": 120, "a": 10, "b": 110}
    assert suppress(values, [Relation("t", ("a", "b"))], 10)["a"] == ""  # k = 10: 10 is shown


def test_register_forces_earlier_suppressions() -> None:
    values, relations = grid({"31": {"a": 30, "b": 40}, "32": {"a": 20, "b": 15}})
    status = suppress(values, relations, K, forced={("31", "a")})
    assert status[("31", "a")] == "secondary"
    assert not exactly_determined(values, relations, status)


# ---------------------------------------------------------------------------------------------
# Referral facts → indicator cells
# ---------------------------------------------------------------------------------------------

START, END, AS_OF = date(2025, 1, 1), date(2025, 3, 31), date(2025, 9, 30)
PLACES = [("31", "76"), ("32", "76"), ("69", "84"), ("2A", "94")]


def make_facts(seed: int = 1, n: int = 300) -> list[ReferralFact]:
    rng = random.Random(seed)
    facts = []
    for i in range(n):
        department, region = rng.choices(PLACES, weights=[10, 2, 8, 1])[0]
        sent = START + timedelta(days=rng.randrange(85))
        decided = sent + timedelta(days=rng.randrange(10))
        decision = rng.choice(["accepted", "accepted", "accepted", "declined"])
        first = decided + timedelta(days=rng.randrange(3, 30)) if decision == "accepted" else None
        terminal = None
        status = None
        if first and rng.random() < 0.6:
            terminal = first + timedelta(days=rng.randrange(20, 60))
            status = rng.choice(["completed", "completed", "lost_to_follow_up"])
        facts.append(ReferralFact(
            referral_id=f"r{i}", department_code=department, region_code=region,
            disability_families=tuple(rng.sample(["moteur", "visuel", "psychique"], rng.randint(0, 2))),
            limitation_level=rng.choice(["none", "minimal", "moderate", "severe", None]),
            sent_at=sent, decided_at=decided, decision=decision, first_session_at=first,
            planned_sessions_day_90=12 if first else None, attended_sessions_day_90=rng.randint(0, 12) if first else None,
            status_at_day_90=rng.choice(["in_progress", "completed", "lost_to_follow_up"]) if first else None,
            terminal_at=terminal, terminal_status=status,
        ))
    return facts


@pytest.fixture(scope="module")
def table():
    return compute_indicators(make_facts(), period_start=START, period_end=END, as_of=AS_OF,
                              settings=IndicatorSettings())


def _cell(table, code, level, geo, month_start=None, dimension="all", value=""):
    for cell in table.cells:
        if (cell.indicator_code, cell.geo_level, cell.geo_code, cell.dimension, cell.dimension_value) == (
                code, level, geo, dimension, value) and (
                (month_start is None and cell.period_start == START and cell.period_end == END)
                or cell.period_start == month_start):
            return cell
    raise AssertionError("no such cell")


def test_national_counts_are_exact_and_published(table) -> None:
    facts = make_facts()
    cell = _cell(table, "I01_referrals_sent", "national", "FR")
    assert cell.value == len(facts) and not cell.suppressed and cell.unit == "count"
    decided = [f for f in facts if f.decided_at <= END]  # decided in the period (§10.1 I02)
    accepted = sum(f.decision == "accepted" for f in decided)
    rate = _cell(table, "I02_acceptance_rate", "national", "FR")
    assert (rate.numerator, rate.denominator) == (accepted, len(decided))
    assert rate.value == round(accepted / len(decided), 4)
    median = _cell(table, "I04_days_to_first_session", "national", "FR")
    firsts = sorted((f.first_session_at - f.sent_at).days for f in facts if f.first_session_at and f.first_session_at <= END)
    assert median.unit == "days" and median.denominator == len(firsts)
    assert median.value == (firsts[len(firsts) // 2] if len(firsts) % 2 else (firsts[len(firsts) // 2 - 1] + firsts[len(firsts) // 2]) / 2)


def test_no_output_cell_describes_fewer_than_k_people(table) -> None:
    for cell in table.cells:
        if cell.suppressed:
            assert cell.value is None and cell.numerator is None and cell.denominator is None
            assert cell.suppression in ("primary", "secondary")
            continue
        if cell.unit == "count":
            assert cell.value == 0 or cell.value >= K
        for count in (cell.numerator, cell.denominator):
            assert count is None or count == 0 or count >= K
        if cell.unit == "ratio" and cell.denominator:
            complement = cell.denominator - cell.numerator
            assert complement == 0 or complement >= K  # 52/53 would reveal the one who declined
        if cell.unit == "days" and cell.value is not None:
            assert cell.denominator is None or cell.denominator >= K
    # There is no per-referral row: every cell aggregates a geography, a period and a breakdown.
    assert all(cell.geo_level in ("department", "region", "national") for cell in table.cells)


def test_small_department_is_suppressed_and_not_recomputable(table) -> None:
    facts = make_facts()
    corsica = sum(f.department_code == "2A" for f in facts)
    assert 1 <= corsica <= K - 1 or corsica >= K
    sent_2a = _cell(table, "I01_referrals_sent", "department", "2A")
    sent_94 = _cell(table, "I01_referrals_sent", "region", "94")
    if 1 <= corsica <= K - 1:
        assert sent_2a.suppressed and sent_2a.suppression == "primary"
        assert sent_94.suppressed  # region 94 = 2A alone: its total would give 2A away


def test_published_system_pins_no_hidden_cell() -> None:
    from sport_referral.rules.indicators import _build_cube  # the exact table behind the cells

    settings = IndicatorSettings()
    facts = make_facts(seed=3, n=120)
    cube = _build_cube(facts, START, END, AS_OF, settings)
    relations = cube.relations(True)
    status = suppress(cube.counts, relations, K)
    assert any(status.values())
    assert not derivable_by_subtraction(cube.counts, relations, status)
    assert not determined_hidden_cells(cube.counts, relations, {k for k, s in status.items() if s})


def test_rates_follow_their_counts(table) -> None:
    for cell in table.cells:
        if cell.unit == "ratio" and not cell.suppressed and cell.denominator:
            assert cell.value == round(cell.numerator / cell.denominator, 4)


def test_register_is_returned_and_reused() -> None:
    facts = make_facts(seed=5, n=150)
    first = compute_indicators(facts, period_start=START, period_end=END, as_of=AS_OF, settings=IndicatorSettings())
    second = compute_indicators(facts[:140], period_start=START, period_end=END, as_of=AS_OF,
                                settings=IndicatorSettings(), previously_suppressed=first.register)
    assert first.register <= second.register  # what was hidden stays hidden in the later release


def test_adherence_and_completion_definitions() -> None:
    base = {"department_code": "31", "region_code": "76", "sent_at": date(2025, 1, 2), "decided_at": date(2025, 1, 3),
            "decision": "accepted", "first_session_at": date(2025, 1, 10), "planned_sessions_day_90": 10}
    facts = [ReferralFact(referral_id=f"a{i}", attended_sessions_day_90=5, status_at_day_90="in_progress", **base)
             for i in range(12)]
    facts += [ReferralFact(referral_id=f"b{i}", attended_sessions_day_90=4, status_at_day_90="in_progress", **base)
              for i in range(12)]
    facts += [ReferralFact(referral_id=f"c{i}", attended_sessions_day_90=9, status_at_day_90="lost_to_follow_up",
                           terminal_at=date(2025, 2, 1), terminal_status="lost_to_follow_up", **base) for i in range(11)]
    facts += [ReferralFact(referral_id=f"d{i}", attended_sessions_day_90=10, status_at_day_90="completed",
                           terminal_at=date(2025, 3, 1), terminal_status="completed", **base) for i in range(11)]
    facts.append(ReferralFact(referral_id="draft", is_cancelled_draft=True, **base))
    table = compute_indicators(facts, period_start=START, period_end=END, as_of=AS_OF, settings=IndicatorSettings())
    adherence = _cell(table, "I05_adherence_3m", "national", "FR")
    assert (adherence.numerator, adherence.denominator) == (23, 46)  # ≥ 0.5 attended AND still active
    completion = _cell(table, "I08_completion_rate", "national", "FR")
    assert (completion.numerator, completion.denominator, completion.value) == (11, 22, 0.5)
    sent = _cell(table, "I01_referrals_sent", "national", "FR")
    assert sent.value == 46  # the cancelled draft is not counted
    # Not yet 90 days after the first session: not in the cohort.
    early = compute_indicators(facts, period_start=START, period_end=END, as_of=date(2025, 3, 1),
                               settings=IndicatorSettings())
    assert _cell(early, "I05_adherence_3m", "national", "FR").denominator == 0
