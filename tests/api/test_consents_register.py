"""Consents (citizen and enterprise representative), check_consent, the query register and masking."""

from __future__ import annotations

import datetime as dt

from api_service import ORG, ORG2, P1, P2, Service

from scoring.consents import check_consent
from scoring.credit_file import person
from scoring.db.engine import make_sessionmaker

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None)


def period(start_days: float, end_days: float) -> dict[str, str]:
    return {
        "valid_from": (NOW + dt.timedelta(days=start_days)).isoformat(),
        "valid_to": (NOW + dt.timedelta(days=end_days)).isoformat(),
    }


def test_citizen_grants_lists_and_revokes_and_check_consent_follows(seeded: Service) -> None:
    c, me = seeded.client, seeded.auth(seeded.citizen(P1))
    r = c.post(
        "/v1/me/consents", json={"bank": "citybank", "purpose": "credit_loan", **period(-1, 30)}, headers=me
    )
    assert r.status_code == 201, r.text
    consent = r.json()
    assert consent["active"] and consent["revoked_at"] is None
    later = c.post(
        "/v1/me/consents", json={"bank": "citybank", "purpose": "mortgage", **period(10, 40)}, headers=me
    )
    assert later.status_code == 201 and not later.json()["active"]
    for bad, why in (
        ({"bank": "nobank", "purpose": "credit_loan", **period(0, 1)}, "unknown bank"),
        ({"bank": "citybank", "purpose": "gossip", **period(0, 1)}, "unknown purpose"),
        ({"bank": "citybank", "purpose": "credit_loan", **period(5, 1)}, "ends before it starts"),
        (
            {"bank": "metro", "purpose": "credit_loan", **period(0, 1)},
            "unknown bank",
        ),  # a partner, not a bank
    ):
        r = c.post("/v1/me/consents", json=bad, headers=me)
        assert r.status_code == 422 and why in r.json()["detail"], r.text
    assert [x["purpose"] for x in c.get("/v1/me/consents", headers=me).json()] == ["credit_loan", "mortgage"]

    granted = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with make_sessionmaker(seeded.engine)() as s:
        sid = person(s, seeded.pseudonym(P1)).id  # type: ignore[union-attr]
        assert check_consent(s, "citybank", sid, "credit_loan", granted)
        assert not check_consent(
            s, "citybank", sid, "credit_loan", NOW - dt.timedelta(hours=1)
        )  # not yet given
        assert not check_consent(s, "otherbank", sid, "credit_loan", granted)
        assert not check_consent(s, "citybank", sid, "credit_card", granted)
        assert not check_consent(s, "citybank", sid, "credit_loan", NOW + dt.timedelta(days=31))
        assert not check_consent(s, "citybank", sid, "mortgage", granted)
        assert check_consent(s, "citybank", sid, "mortgage", NOW + dt.timedelta(days=11))

    # Another citizen can neither see nor revoke it.
    other = seeded.auth(seeded.token("citizen", seeded.pseudonym(P2)))
    assert c.get("/v1/me/consents", headers=other).json() == []
    assert c.delete(f"/v1/me/consents/{consent['id']}", headers=other).status_code == 404
    r = c.delete(f"/v1/me/consents/{consent['id']}", headers=me)
    assert r.status_code == 200 and r.json()["revoked_at"] and not r.json()["active"]
    with make_sessionmaker(seeded.engine)() as s:
        assert not check_consent(
            s, "citybank", sid, "credit_loan", dt.datetime.now(dt.UTC).replace(tzinfo=None)
        )
        # A read made before the revocation was covered.
        assert check_consent(s, "citybank", sid, "credit_loan", granted)


def test_enterprise_representative_acts_only_for_its_organisations(seeded: Service) -> None:
    c = seeded.client
    rep = seeded.auth(seeded.token("enterprise_rep", "rep-1", orgs=(ORG,)))
    body = {"bank": "citybank", "purpose": "credit_loan", **period(0, 90)}
    r = c.post(f"/v1/orgs/{ORG}/consents", json=body, headers=rep)
    assert r.status_code == 201, r.text
    assert len(c.get(f"/v1/orgs/{ORG}/consents", headers=rep).json()) == 1
    assert c.post(f"/v1/orgs/{ORG2}/consents", json=body, headers=rep).status_code == 403
    assert c.get(f"/v1/orgs/{ORG2}/file", headers=rep).status_code == 403
    file = c.get(f"/v1/orgs/{ORG}/file", headers=rep).json()
    assert file["subject"]["identity_number"] == ORG and file["subject"]["name"] == "Alpha Ltd"
    [reg] = file["records"]
    assert reg["details"]["legal_rep_id"] == seeded.pseudonym(P2)  # stored pseudonymised
    queries = c.get(f"/v1/orgs/{ORG}/queries", headers=rep).json()["queries"]
    assert [(q["accessor_role"], q["route"]) for q in queries] == [("enterprise_rep", "/v1/orgs/{code}/file")]
    r = c.delete(f"/v1/orgs/{ORG}/consents/{r.json()['id']}", headers=rep)
    assert r.status_code == 200 and r.json()["revoked_at"]


def test_every_read_is_registered_and_identity_numbers_masked_except_for_the_citizen(seeded: Service) -> None:
    c, me = seeded.client, seeded.auth(seeded.citizen(P1))
    key = seeded.pseudonym(P1)
    own = c.get("/v1/me/file", headers=me).json()
    assert own["subject"]["identity_number"] == P1 and len(own["records"]) == 2
    sup = seeded.auth(seeded.token("supervisor", "sup-9"))
    r = c.get(
        f"/v1/subjects/{key}/file", params={"purpose": "supervision"}, headers={**sup, "x-request-id": "rq-5"}
    )
    assert r.status_code == 200
    assert r.json()["subject"]["identity_number"] == P1[:4] + "*" * 10 + P1[-4:]
    assert P1 not in r.text
    assert c.get(f"/v1/subjects/{key}/file", headers=sup).status_code == 422  # no purpose, no read
    assert (
        c.get(f"/v1/subjects/{P1}/file?purpose=supervision", headers=sup).status_code == 404
    )  # numbers don't look up
    queries = c.get("/v1/me/queries", headers=me).json()["queries"]
    assert [(q["accessor_role"], q["accessor_id"], q["purpose"], q["route"]) for q in queries] == [
        ("supervisor", "sup-9", "supervision", "/v1/subjects/{subject_key}/file"),
        ("citizen", key, "self_service", "/v1/me/file"),
    ]
    assert queries[0]["request_id"] == "rq-5"
    page = c.get("/v1/me/queries", params={"limit": 1, "before_id": queries[0]["id"]}, headers=me).json()
    assert [q["id"] for q in page["queries"]] == [queries[1]["id"]]
    # A citizen without a credit file.
    nobody = seeded.auth(seeded.token("citizen", "0" * 64))
    assert c.get("/v1/me", headers=nobody).status_code == 404
