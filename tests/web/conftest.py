"""Browser tests: the service on a real port (uvicorn in a thread) over a small published city,
driven by Playwright in Debian's Chromium, headless.

Chromium is found at ``CREDIT_CHROMIUM`` or on the PATH (``apt-get install chromium``); without it
these tests are skipped, except under CI (``CI=true``), where ``.ci/run`` installs it and a
missing browser is a failure. Screenshots go to ``tests/artifacts/web/``.

The city is the hand-built one of the API tests (``tests/api/score_service.py``: a scored
citizen with late utility bills and a traffic violation, a thin file, a minor, a listed and a
clean organisation), published twice so that the citizen has a history, plus a dozen
organisations in three sectors and two districts, inspectors for the plans, and a consent of the
citizen to a bank.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn

_API = str(Path(__file__).resolve().parents[1] / "api")
if _API not in sys.path:
    sys.path.insert(0, _API)

from api_service import make_settings, org_code  # noqa: E402
from score_service import CLEAN, LISTED, SCORED, _rec, build_city, train_bundles  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from api.app import create_app  # noqa: E402
from features.registry import load_registry  # noqa: E402
from scoring.auth import issue_api_key, issue_token  # noqa: E402
from scoring.consents import grant_consent  # noqa: E402
from scoring.db.engine import make_engine  # noqa: E402
from scoring.db.migrate import upgrade  # noqa: E402
from scoring.db.tables import Record, Subject  # noqa: E402
from scoring.identity import IdentityVault  # noqa: E402
from scoring.inspections import add_inspector  # noqa: E402
from scoring.publish import publish_scores  # noqa: E402
from scoring.settings import Settings  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
FIRST = dt.date(2026, 3, 15)  # the first publication; the second is score_service.D
SECOND = dt.date(2026, 6, 15)
SECTORS = ("retail", "catering", "construction")
DISTRICTS = ("350102", "350103")


@dataclass
class WebCity:
    url: str
    settings: Settings
    engine: sa.Engine
    vault: IdentityVault
    tokens: dict[str, str] = field(default_factory=dict)
    bank_key: str = ""

    def sign_in_url(self, role: str, page: str = "app") -> str:
        return f"{self.url}/{page}/#token={self.tokens[role]}"


def _org_record(sid: int, uid: str, kind: str, day: dt.date, **kw: Any) -> dict[str, Any]:
    """A record as score_service builds them; tax records unless told, public for three years."""
    kw.setdefault("department", "tax")
    kw.setdefault("publicity_end", dt.date(day.year + 3, 1, 1))
    return _rec(uid, sid, kind, day, **kw)


def _orgs(engine: sa.Engine) -> None:
    """Twelve more organisations: registrations, monthly VAT, tax credit levels, a few penalties."""
    subjects, records = [], []
    levels = "ABCDABMABCAB"
    for i in range(12):
        sid, reg = 100 + i, dt.date(2012 + i % 6, 5, 1)
        subjects.append(
            {
                "id": sid,
                "subject_type": "enterprise",
                "subject_key": org_code(f"MB{i:06d}"),
                "name": f"Shop {i:02d}",
                "sector": SECTORS[i % 3],
                "district_code": DISTRICTS[i % 2],
                "registered_on": reg,
                "created_at": dt.datetime(2020, 1, 1),
                "birth_year": None,
                "id_cipher": None,
                "key_version": None,
            }
        )
        payload = f'{{"registered_on":"{reg}"}}'
        records.append(
            _org_record(sid, f"mb{i}-reg", "org_registration", reg, department="amr", payload=payload,
                        publicity_end=dt.date(2115, 1, 1))
        )  # fmt: skip
        records.append(
            _org_record(sid, f"mb{i}-tax", "tax_credit_level", dt.date(2026, 4, 10), outcome=levels[i])
        )
        for m in range(1, 7):  # monthly VAT, late twice for every third organisation
            late = i % 3 == 2 and m <= 2
            records.append(
                _org_record(sid, f"mb{i}-vat{m}", "tax_payment", dt.date(2026, m, 15),
                            outcome="late" if late else "on_time", amount=12000.0,
                            quantity=30.0 if late else 0.0,
                            payload=f'{{"tax_type":"value_added","period":"2026-{m:02d}"}}')
            )  # fmt: skip
        if i % 4 == 3:
            records.append(
                _org_record(sid, f"mb{i}-pen", "administrative_penalty", dt.date(2026, 2, 10),
                            severity="serious", department="amr", amount=50000.0)
            )  # fmt: skip
    with engine.begin() as c:
        c.execute(sa.insert(Subject), subjects)
        c.execute(sa.insert(Record), records)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def web_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebCity]:
    tmp = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{tmp}/web.db"
    upgrade(url)
    bundles = train_bundles(load_registry(), tmp / "bundles")
    settings = make_settings(url, tmp, bundle_dir=bundles)
    engine = make_engine(url)
    vault = IdentityVault.from_settings(settings)
    build_city(engine, vault)
    _orgs(engine)
    with engine.begin() as c:  # the hand-built records name departments of the catalogue
        c.execute(sa.text("UPDATE records SET department = 'traffic_police' WHERE record_uid = 't1'"))
    publish_scores(engine, settings, FIRST, known_at=dt.datetime(2026, 4, 1, 12), actor="tester")
    publish_scores(engine, settings, SECOND, known_at=dt.datetime(2026, 7, 1, 12), actor="tester")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with Session(engine) as session, session.begin():
        citizen = session.execute(sa.select(Subject).where(Subject.id == 1)).scalar_one()
        bank_key, _ = issue_api_key(session, role="bank", name="citybank", created_by="tester")
        grant_consent(session, subject_id=citizen.id, bank="citybank", purpose="credit_loan",
                      valid_from=now - dt.timedelta(days=1), valid_to=now + dt.timedelta(days=300),
                      granted_by="citizen")  # fmt: skip
        for n, name in enumerate(("Zhang Wei", "Li Na", "Wang Fang", '=HYPERLINK("x")')):
            add_inspector(session, code=f"ZF-{n:04d}", name=name, department="market_regulation", sectors="*")
    pseudonym = vault.lookup_key(SCORED)
    tokens = {
        "citizen": issue_token(settings, role="citizen", subject=pseudonym),
        "enterprise_rep": issue_token(settings, role="enterprise_rep", subject="rep-1", orgs=(LISTED, CLEAN)),
        "supervisor": issue_token(settings, role="supervisor", subject="sup-1"),
        "reviewer": issue_token(settings, role="reviewer", subject="rev-1"),
    }
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    yield WebCity(f"http://127.0.0.1:{port}", settings, engine, vault, tokens, bank_key)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


def _chromium() -> str | None:
    return os.environ.get("CREDIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = _chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI: Chromium is required for the browser tests (apt-get install chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium, or set CREDIT_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(params=["phone", "desktop"])
def viewport(request: pytest.FixtureRequest) -> tuple[str, dict[str, int]]:
    return request.param, PHONE if request.param == "phone" else DESKTOP


@pytest.fixture
def shot() -> Any:
    """``shot(page, name)`` saves a full-page screenshot under tests/artifacts/web/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


MODEL_CARD = """# Model card: credit-person-pd v1

Trained on the **development** sample; see `docs/models.md`.

## Metrics

| metric | value |
| --- | --- |
| dev_auc | 0.70 |

- monotone constraints on every feature
- <script>document.body.dataset.injected = "yes"</script> <img src=x onerror="alert(1)">
"""


@pytest.fixture
def model_card(web_city: WebCity) -> str:
    """A Markdown model card for the person champion (version 1), with markup that must stay text."""
    from scoring.model_info import card_path

    path = card_path(web_city.settings.var_dir, "credit-person-pd", "1")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MODEL_CARD, encoding="utf-8")
    return MODEL_CARD
