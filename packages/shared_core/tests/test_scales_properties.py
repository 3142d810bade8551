"""Properties over every shipped scale: in-range answers always score, out-of-range never do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_core.errors import ValidationFailed
from shared_core.scales import ScaleDefinition, load_catalogue, score

CATALOGUE = load_catalogue()


@st.composite
def valid_answers(draw: st.DrawFn, definition: ScaleDefinition) -> list[int]:
    answers = [draw(st.integers(item.min, item.max)) for item in definition.items]
    for rule in definition.skip_rules:  # answer consistently with the skip logic, as a form would
        if rule.action == "must_equal" and answers[rule.when_item - 1] == rule.equals:
            for number in rule.items:
                answers[number - 1] = rule.value
    return answers


@pytest.mark.parametrize("code", CATALOGUE.codes())
@given(data=st.data())
def test_in_range_answers_score_within_range_with_exactly_one_band(code: str, data: st.DataObject) -> None:
    definition = CATALOGUE.get(code)
    result = score(definition, data.draw(valid_answers(definition)))
    matching = [b for b in definition.bands if b.code == result.band]
    assert len(matching) == 1
    if definition.total_min is None or definition.total_max is None:
        assert result.total is None
    else:
        assert result.total is not None
        assert definition.total_min <= result.total <= definition.total_max
    if definition.scoring in ("sum", "qids_domains", "ricci_gagnon", "who5"):
        assert result.total is not None
        assert matching[0].min <= result.total <= matching[0].max
    assert set(result.alerts) <= {a.code for a in definition.alerts}
    assert result.prorated is False


@pytest.mark.parametrize("code", CATALOGUE.codes())
@given(data=st.data())
def test_every_out_of_range_answer_is_reported(code: str, data: st.DataObject) -> None:
    definition = CATALOGUE.get(code)
    answers = data.draw(valid_answers(definition))
    bad = data.draw(st.sets(st.integers(0, len(answers) - 1), min_size=1))
    for index in bad:
        item = definition.items[index]
        answers[index] = data.draw(st.integers(max_value=item.min - 1) | st.integers(min_value=item.max + 1))
    with pytest.raises(ValidationFailed) as caught:
        score(definition, answers)
    assert {e.field for e in caught.value.errors} == {f"items[{i}]" for i in bad}
