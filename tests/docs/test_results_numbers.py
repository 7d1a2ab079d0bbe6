"""docs/results.md agrees with its evidence, and the check catches any quoted number edited in a copy.

The class of failure: a number on the page that its evidence under docs/results/ does not give. The check
(rnnlab.training.results_check) regenerates the tables and recomputes the claims; these tests edit a copy
of the page in every way that class allows (any digit of any generated table or claim, a new measured-looking
number in the prose) and require the check to fail, and require the fenced unchecked region to stay unchecked.
"""
import re

from hypothesis import given, settings, strategies as st

from rnnlab.cli_parsers import results_check_command
from rnnlab.training import results_check as rc

PAGE = rc.page_path().read_text()


def checked_digits() -> list[int]:
    """Positions of every digit inside a generated table or a quoted claim."""
    spans = [(start, stop) for _, start, stop in rc.regions(PAGE)]
    for claim in rc.CLAIMS:
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(claim.text()), PAGE)]
    return sorted({i for a, b in spans for i in range(a, b) if PAGE[i].isdigit()})


DIGITS = checked_digits()


def test_the_page_agrees_with_its_evidence_and_has_every_table_and_claim():
    assert rc.problems(PAGE) == []
    assert {name for name, _, _ in rc.regions(PAGE)} == set(rc.TABLES)
    assert all(PAGE.count(claim.text()) >= 1 for claim in rc.CLAIMS)
    assert len(DIGITS) > 1000


def test_the_check_command_passes_on_the_page_and_fails_on_an_edited_copy(tmp_path, capsys):
    assert results_check_command(["--check"]) == 0
    copy = tmp_path / "results.md"
    quoted = "best-validation test MSE 0.0035, 0.0111 and 0.0182"
    assert quoted in PAGE
    copy.write_text(PAGE.replace(quoted, quoted.replace("0.0111", "0.0100")))
    assert results_check_command(["--check", "--page", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "the evidence says 'best-validation test MSE 0.0035, 0.0111 and 0.0182" in err
    assert "'0.0100' looks measured" in err


@settings(max_examples=60, deadline=None)
@given(where=st.sampled_from(DIGITS), digit=st.integers(0, 9))
def test_any_digit_of_a_table_or_claim_edited_fails_the_check(where, digit):
    if str(digit) == PAGE[where]:
        digit = (digit + 1) % 10
    edited = PAGE[:where] + str(digit) + PAGE[where + 1:]
    assert rc.problems(edited), f"editing {PAGE[max(0, where - 30):where + 30]!r} went unnoticed"


@settings(max_examples=30, deadline=None)
@given(number=st.one_of(st.floats(0.01, 999, allow_nan=False).map(lambda x: f"{x:.2f}"),
                        st.integers(1, 99).map(lambda x: f"{x} %"),
                        st.floats(1e-30, 1e-3).map(lambda x: f"{x:.1e}")))
def test_a_measured_looking_number_added_to_the_prose_fails_the_check(number):
    anchor = "**Observations.**"
    assert anchor in PAGE
    edited = PAGE.replace(anchor, f"{anchor} It reached {number} here.", 1)
    assert any("looks measured" in line and number in line for line in rc.problems(edited)), number


def test_a_blanked_table_is_regenerated_and_the_unchecked_region_is_skipped(tmp_path):
    name, start, stop = rc.regions(PAGE)[0]
    blank = PAGE[:start] + "\n" + PAGE[stop:]
    assert any(f"table {name!r} differs" in line for line in rc.problems(blank))
    assert rc.with_tables(blank) == PAGE
    begin, end = (PAGE.index(m) for m in rc.UNCHECKED)
    fenced = PAGE[:begin] + PAGE[begin:end].replace("98.19 %", "12.34 %") + PAGE[end:]
    assert fenced != PAGE and rc.problems(fenced) == []
    unfenced = PAGE.replace(rc.UNCHECKED[0], "")
    assert any("looks measured" in line for line in rc.problems(unfenced))
