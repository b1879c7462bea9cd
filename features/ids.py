"""Identifier checks: resident identity numbers and unified social credit codes.

* ``IdentifierError`` (a ``ValueError``) carries a machine-readable ``code`` and a precise message,
  for example ``"check character should be 7, got X"``.

Resident identity number (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit
sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character (0-9 or X).
For natural persons it is also their unified social credit code.

Unified social credit code (GB 32100-2015): registration authority, organisation type, 6-digit
address code, 9-character organisation code (GB 11714, with its own check character) and a
MOD 31 check character over the alphabet ``0-9A-HJ-NPQRTUWXY``.

These functions are pure: no keys, no environment. Pseudonymisation lives in ``scoring``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = [
    "USCC_ALPHABET",
    "IdentifierError",
    "OrgCode",
    "PersonId",
    "mask_identifier",
    "org_check_char",
    "parse_org_code",
    "parse_person_id",
    "person_check_char",
    "uscc_check_char",
]

_PID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_PID_CHECK = "10X98765432"
# Province-level prefixes of administrative division codes (GB/T 2260), incl. HK/Macau/Taiwan.
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# (registration authority, type) -> subject type. Authorities: 1 organisation-staffing offices,
# 5 civil affairs, 9 market regulation (industry and commerce); others fold into social orgs.
_ORG_TYPES: dict[tuple[str, str], str] = {
    ("1", "1"): "government_body",
    ("1", "2"): "public_institution",
    ("1", "3"): "social_organization",
    ("1", "9"): "public_institution",
    ("5", "1"): "social_organization",
    ("5", "2"): "social_organization",
    ("5", "3"): "social_organization",
    ("5", "9"): "social_organization",
    ("9", "1"): "enterprise",
    ("9", "2"): "individual_business",
    ("9", "3"): "enterprise",
    ("3", "1"): "social_organization",
    ("3", "2"): "social_organization",
    ("3", "9"): "social_organization",
    ("8", "1"): "social_organization",
    ("8", "9"): "social_organization",
    ("N", "1"): "enterprise",
    ("N", "2"): "enterprise",
    ("N", "9"): "enterprise",
    ("Y", "1"): "social_organization",
}

ORG_SUBJECT_TYPES = frozenset(_ORG_TYPES.values())


class IdentifierError(ValueError):
    """An identifier that fails a structural or check-character test."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class PersonId:
    number: str
    district_code: str
    birth_date: dt.date
    gender: str  # "M" or "F"

    @property
    def birth_year(self) -> int:
        return self.birth_date.year

    def age_on(self, day: dt.date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


@dataclass(frozen=True, slots=True)
class OrgCode:
    code: str
    subject_type: str
    district_code: str


def person_check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(body17, _PID_WEIGHTS, strict=True))
    return _PID_CHECK[total % 11]


def parse_person_id(value: str, *, today: dt.date | None = None) -> PersonId:
    """Validate an 18-character resident identity number and return its parts."""
    if not isinstance(value, str):
        raise IdentifierError("id_type", "identity number must be text")
    s = value.strip().upper()
    if len(s) != 18:
        raise IdentifierError("id_length", f"identity number must have 18 characters, got {len(s)}")
    if not s[:17].isdigit() or not s[:17].isascii():
        raise IdentifierError("id_charset", "identity number: the first 17 characters must be digits")
    if not (s[17].isdigit() or s[17] == "X") or not s[17].isascii():
        raise IdentifierError("id_charset", "identity number: the last character must be a digit or X")
    if s[:2] not in _PROVINCES:
        raise IdentifierError("id_district", f"identity number: unknown province code {s[:2]}")
    try:
        birth = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise IdentifierError("id_birth_date", f"identity number: invalid birth date {s[6:14]}") from None
    if birth.year < 1900 or birth > (today or dt.date.today()):
        raise IdentifierError("id_birth_date", f"identity number: implausible birth date {birth.isoformat()}")
    expected = person_check_char(s[:17])
    if s[17] != expected:
        raise IdentifierError("id_check", f"check character should be {expected}, got {s[17]}")
    return PersonId(s, s[:6], birth, "M" if int(s[16]) % 2 else "F")


def org_check_char(body8: str) -> str:
    """GB 11714 check character of the 9-character organisation code."""
    total = 0
    for c, w in zip(body8, _ORG_WEIGHTS, strict=True):
        if c.isdigit():
            v = int(c)
        elif "A" <= c <= "Z":
            v = ord(c) - ord("A") + 10
        else:
            raise IdentifierError("uscc_charset", f"organisation code: invalid character {c!r}")
        total += v * w
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def uscc_check_char(body17: str) -> str:
    """MOD 31 check character of a unified social credit code (GB 32100-2015)."""
    total = 0
    for c, w in zip(body17, _USCC_WEIGHTS, strict=True):
        v = _USCC_VALUE.get(c)
        if v is None:
            raise IdentifierError("uscc_charset", f"credit code: invalid character {c!r}")
        total += v * w
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_org_code(value: str) -> OrgCode:
    """Validate an 18-character unified social credit code of an organisation."""
    if not isinstance(value, str):
        raise IdentifierError("uscc_type", "credit code must be text")
    s = value.strip().upper()
    if len(s) != 18:
        raise IdentifierError("uscc_length", f"credit code must have 18 characters, got {len(s)}")
    bad = [c for c in s if c not in _USCC_VALUE]
    if bad:
        raise IdentifierError("uscc_charset", f"credit code: invalid character {bad[0]!r}")
    subject_type = _ORG_TYPES.get((s[0], s[1]))
    if subject_type is None:
        raise IdentifierError(
            "uscc_authority", f"credit code: unknown registration authority/type {s[0]}{s[1]}"
        )
    if not s[2:8].isdigit() or s[2:4] not in _PROVINCES:
        raise IdentifierError("uscc_district", f"credit code: invalid address code {s[2:8]}")
    expected_org = org_check_char(s[8:16])
    if s[16] != expected_org:
        raise IdentifierError(
            "uscc_org_check", f"organisation code check character should be {expected_org}, got {s[16]}"
        )
    expected = uscc_check_char(s[:17])
    if s[17] != expected:
        raise IdentifierError("uscc_check", f"check character should be {expected}, got {s[17]}")
    return OrgCode(s, subject_type, s[2:8])


def mask_identifier(value: str) -> str:
    """Mask an identifier for display: keep the first 4 and last 4 characters."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
