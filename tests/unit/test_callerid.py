"""The caller-ID normaliser's table (domain/callerid.py): every presented form of a number gives
its one E.164 form, anything without a usable number is withheld, and blacklist entries typed by
ops land in the same form. tests/e2e/test_callerid.py and the differential test place the same
forms as real calls through the rendered dialplan."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.domain.callerid import (
    PREFIX_RULES,
    SHORT_CALLERS,
    min_digits,
    normalize,
    privacy_withholds,
    stray_zero_codes,
    withheld,
)
from orchestrator.domain.numbers import parse_caller
from orchestrator.errors import NumberInvalid
from orchestrator.generate.render import Renderer

AMSTERDAM = "+31209990000"
FORMS = ["+31209990000", "0209990000", "0031209990000", "31209990000", "+0031209990000", "++31209990000",
         "+310209990000", "+31(0)209990000", "+31 20 999 0000", "+31-20-999-00-00", "0031 (0)20 999 0000",
         "+31,209990000", "+31.20.999.0000", "tel:+31209990000", "00310209990000", "+020 999 0000", "+++31209990000"]


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_a_dutch_number_is_one_e164(form: str) -> None:
    assert normalize(form) == AMSTERDAM
    assert parse_caller(form) == AMSTERDAM  # what `blacklist add` stores
    assert not withheld(form)


@pytest.mark.parametrize(("raw", "e164"), [
    ("+0031612345678", "+31612345678"), ("0031(0)6 1234 5678", "+31612345678"),
    ("+44(0)20 7946 0123", "+442079460123"), ("0044 20 7946 0123", "+442079460123"),
    ("+49 (0)30 1234567", "+49301234567"), ("+32 (0)2 123 45 67", "+3221234567"),
    # Italy keeps its 0: it is part of the number there, not a trunk prefix.
    ("+39 06 1234 5678", "+390612345678"), ("0039 06 12345678", "+390612345678"),
    ("+1 (212) 555-0100", "+12125550100"), ("+31 00 20 999 0000", AMSTERDAM), ("+31(0)(0)209990000", AMSTERDAM),
    ("112", "+112"), ("113", "+113"), ("08000113", "+318000113"),
])
def test_foreign_and_special_forms(raw: str, e164: str) -> None:
    assert normalize(raw) == e164


@pytest.mark.parametrize("raw", ["", "+", "00", "++", "+anonymous", "restricted+", "anonymous", "unknown",
                                 "0", "+31", "+0031", "123", "+31 20", "0000000000", "+0000",
                                 "1234567890123456", "+31 (0)", '020";Hangup()'])
def test_no_usable_number_is_withheld(raw: str) -> None:
    assert normalize(raw) == ""
    assert withheld(raw)
    with pytest.raises(NumberInvalid):
        parse_caller(raw)


@pytest.mark.parametrize(("privacy", "hides"), [
    ("", False), ("none", False), ("None", False), ("id", True), ("ID", True), ("header;id", True),
    ("user", True), ("id;critical", True), ("session", True), (" i d ", True), ("${SHELL(x)}", True)])
def test_the_network_decides_withheld_first(privacy: str, hides: bool) -> None:
    assert privacy_withholds(privacy) is hides
    assert withheld("+31209990000", privacy=privacy) is hides
    assert withheld("+31209990000", presentation_withheld=True)


def test_table_from_metadata() -> None:
    codes = stray_zero_codes()
    assert {"31", "32", "44", "49", "33"} <= set(codes)
    assert not {"39", "1", "7"} & set(codes)  # Italy keeps its 0; NANP and Russia have other prefixes
    assert min_digits() == 6
    assert [r.prefix for r in PREFIX_RULES] == ["00", "0"]  # longest first: 00 before 0


def test_dialplan_is_rendered_from_the_table() -> None:
    lib = Renderer().shared([])["lib.conf"]
    for cc in stray_zero_codes():
        assert f"exten => {cc}0,1,NoOp()" in lib
    for rule in PREFIX_RULES:
        assert f'"${{SVC_CALLER:0:{len(rule.prefix)}}}" = "{rule.prefix}"' in lib
    for short in SHORT_CALLERS:
        assert f'"${{SVC_CALLER}}" = "{short}"' in lib
    assert f"< {min_digits()} |" in lib
    # The raw caller ID and Privacy header appear only inside FILTER().
    assert lib.count("${CALLERID(num)}") == lib.count("FILTER(0123456789,${CALLERID(num)})") == 1
    assert "${TOLOWER(${PJSIP_HEADER(read,Privacy)})}" in lib


@given(st.text(alphabet="0123456789+()-. ,#*", max_size=24) | st.text(alphabet="00013+( )", max_size=18))
def test_normal_form_is_a_fixed_point(raw: str) -> None:
    once = normalize(raw)
    assert once == "" or (once.startswith("+") and once[1:].isdigit() and normalize(once) == once)
