import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.ids import (
    USCC_ALPHABET,
    IdentifierError,
    org_check_char,
    parse_org_code,
    parse_person_id,
    person_check_char,
    uscc_check_char,
)

TODAY = dt.date(2026, 11, 25)


@st.composite
def person_ids(draw: st.DrawFn) -> str:
    district = draw(st.sampled_from(["110105", "320102", "350102", "440305", "510104"]))
    birth = draw(st.dates(dt.date(1940, 1, 1), dt.date(2010, 12, 31)))
    seq = draw(st.integers(0, 999))
    body = f"{district}{birth:%Y%m%d}{seq:03d}"
    return body + person_check_char(body)


@st.composite
def org_codes(draw: st.DrawFn) -> str:
    auth_type = draw(st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "53"]))
    district = draw(st.sampled_from(["110105", "320102", "350102"]))
    org8 = "".join(draw(st.lists(st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"), min_size=8, max_size=8)))
    org9 = org8 + org_check_char(org8)
    if org9[-1] not in USCC_ALPHABET:  # GB 11714 may give 'X'-free digits only here
        org9 = org9[:-1] + "0"
    body = auth_type + district + org9
    return body + uscc_check_char(body)


def test_known_example() -> None:
    p = parse_person_id("11010519491231002X", today=TODAY)
    assert (p.district_code, p.birth_date, p.gender) == ("110105", dt.date(1949, 12, 31), "F")
    assert p.age_on(dt.date(2026, 12, 31)) == 77


def test_precise_check_message() -> None:
    with pytest.raises(IdentifierError, match=r"^check character should be X, got 1$") as exc:
        parse_person_id("110105194912310021", today=TODAY)
    assert exc.value.code == "id_check"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1101051949123100", "id_length"),
        ("11010519491231002Y", "id_charset"),
        ("99010519491231002X", "id_district"),
        ("110105194913310028", "id_birth_date"),
        ("110105203012310020", "id_birth_date"),
    ],
)
def test_person_errors(value: str, code: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        parse_person_id(value, today=TODAY)
    assert exc.value.code == code


@given(person_ids())
def test_every_valid_person_id_passes(number: str) -> None:
    assert parse_person_id(number, today=TODAY).number == number


@given(person_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_every_single_character_change_fails(number: str, pos: int, ch: str) -> None:
    if number[pos] == ch:
        return
    changed = number[:pos] + ch + number[pos + 1 :]
    with pytest.raises(IdentifierError):
        parse_person_id(changed, today=TODAY)


@given(org_codes())
def test_every_valid_org_code_passes(code: str) -> None:
    parsed = parse_org_code(code)
    assert parsed.code == code
    assert parsed.subject_type in {
        "enterprise",
        "individual_business",
        "government_body",
        "public_institution",
        "social_organization",
    }


@given(org_codes(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_every_single_character_change_of_org_code_fails(code: str, pos: int, ch: str) -> None:
    if code[pos] == ch:
        return
    with pytest.raises(IdentifierError):
        parse_org_code(code[:pos] + ch + code[pos + 1 :])


def test_org_subject_types_from_authority_and_type() -> None:
    def make(prefix: str) -> str:
        org9 = "MA0000010"
        org9 = org9[:8] + org_check_char(org9[:8])
        body = prefix + "350102" + org9
        return body + uscc_check_char(body)

    assert parse_org_code(make("91")).subject_type == "enterprise"
    assert parse_org_code(make("92")).subject_type == "individual_business"
    assert parse_org_code(make("11")).subject_type == "government_body"
    assert parse_org_code(make("12")).subject_type == "public_institution"
    assert parse_org_code(make("51")).subject_type == "social_organization"
    code = make("91")
    wrong = "Y" if code[-1] != "Y" else "0"
    with pytest.raises(IdentifierError, match=f"check character should be {code[-1]}, got {wrong}"):
        parse_org_code(code[:-1] + wrong)
