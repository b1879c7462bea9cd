"""The staff pages (/staff/) in Chromium at phone and desktop sizes: the supervisor's class charts,
inspection plans (drawn with a seed, verified, downloaded as CSV, given a result) and the
reviewer's decision replay (a waterfall of the stored contributions), model card and review
queue; keyboard use, the language switch and no request to another origin."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

WebCity = Any  # tests/web/conftest.py's WebCity: url, tokens, sign_in_url(role, page)


def _auth(city: WebCity, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {city.tokens[role]}"}


@pytest.fixture
def page(browser: Any, viewport: tuple[str, dict[str, int]]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport[1], accept_downloads=True, locale="zh-CN")
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert errors == [], errors


def _tab(page: Page, name: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name).click()


def test_supervisor_draws_verifies_downloads_and_records_a_plan(
    page: Page, web_city: WebCity, viewport: tuple[str, dict[str, int]], shot: Any
) -> None:
    name = viewport[0]
    page.goto(web_city.sign_in_url("supervisor", "staff"))
    assert "token=" not in page.url  # the token left the address bar for session storage
    expect(page.get_by_role("heading", name="企业信用等级分布")).to_be_visible()
    chart = page.get_by_role("img", name="各行业企业信用等级分布：堆叠条形图")
    expect(chart).to_be_visible()
    assert chart.locator("rect").count() >= 4  # class segments of the three sectors and more
    expect(page.get_by_role("img", name="各区县企业信用等级分布：堆叠条形图")).to_be_visible()
    expect(page.locator("#enterprise-list")).to_contain_text("Shop 00")  # the enterprise list
    shot(page, f"staff-{name}-supervisor-classes")

    page.get_by_label("信用等级", exact=True).select_option("D")
    page.get_by_role("button", name="查询").click()
    rows = page.locator("#enterprise-list tbody tr")
    expect(rows.first.locator("td").nth(4)).to_have_text("D")
    assert all("D" in rows.nth(i).locator("td").nth(4).inner_text() for i in range(rows.count()))

    _tab(page, "双随机抽查")
    seed = f"web-seed-{name}-0001"
    page.get_by_label("行业", exact=True).select_option("retail")
    page.get_by_label("检查期间", exact=True).fill("2026Q3")
    page.get_by_label("随机种子（可选）", exact=True).fill(seed)
    page.get_by_role("button", name="生成并公布").click()
    plan = page.locator("#plan")
    expect(plan.locator("#plan-seed")).to_have_text(seed)
    plan_no = plan.get_attribute("data-plan-no")
    assert plan_no
    header = httpx.get(f"{web_city.url}/v1/supervisor/plans/{plan_no}", headers=_auth(web_city, "supervisor"))
    assert header.status_code == 200  # the plan exists, as shown
    body = header.json()
    assert body["seed"] == seed
    expect(plan.locator("#plan-hash")).to_have_text(body["selection_sha256"])
    drawn = sum(n for _, n in body["counts"].values())
    expect(plan.locator("table").nth(1).locator("tbody tr")).to_have_count(drawn)

    page.get_by_role("button", name="用种子验证").click()
    expect(page.locator("[data-verified=true]")).to_contain_text("已验证")
    verify = httpx.get(
        f"{web_city.url}/v1/supervisor/plans/{plan_no}/verify", headers=_auth(web_city, "supervisor")
    )
    assert verify.json() == {"plan_no": plan_no, "ok": True, "problems": []}
    shot(page, f"staff-{name}-plan-verified")

    with page.expect_download() as info:
        page.get_by_role("button", name="下载 CSV").click()
    download = info.value
    assert download.suggested_filename == f"{plan_no}.csv"
    with open(download.path(), encoding="utf-8") as fh:
        text = fh.read()
    rows_csv = list(csv.reader(io.StringIO(text)))
    assert rows_csv[0] == ["position", "credit_code", "name", "class", "inspectors", "result"]
    assert len(rows_csv) == drawn + 1
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows_csv for cell in row)

    first = body["selection"][0]
    page.get_by_label("被检查企业", exact=True).select_option(first["code"])
    page.get_by_label("检查结果", exact=True).select_option("non_compliant")
    page.get_by_label("检查日期", exact=True).fill("2026-07-10")
    page.get_by_role("button", name="登记结果").click()
    expect(page.locator("#result-status")).to_contain_text(first["code"])
    expect(page.locator("#plan").locator("tbody tr").filter(has_text=first["code"])).to_contain_text(
        "发现违法违规"
    )
    again = httpx.get(f"{web_city.url}/v1/supervisor/plans/{plan_no}", headers=_auth(web_city, "supervisor"))
    got = next(d for d in again.json()["selection"] if d["code"] == first["code"])
    assert (got["result"], got["inspected_on"]) == ("non_compliant", "2026-07-10")
    shot(page, f"staff-{name}-plan-result")

    _tab(page, "评分覆盖率")
    expect(page.get_by_role("img", name="各期评分覆盖率折线图（%）")).to_be_visible()
    shot(page, f"staff-{name}-coverage")

    _tab(page, "信用预警")
    page.get_by_label("开始日期", exact=True).fill("2026-01-01")
    page.get_by_label("结束日期（可选）", exact=True).fill("2026-12-31")
    page.get_by_role("button", name="查询").click()
    warned = httpx.get(
        f"{web_city.url}/v1/supervisor/warnings?from=2026-01-01&to=2026-12-31",
        headers=_auth(web_city, "supervisor"),
    ).json()["organisations"]
    expect(page.locator("#warnings")).to_contain_text(f"{len(warned)} 家企业")
    expect(page.locator("#warnings tbody tr")).to_have_count(len(warned))
    if warned:
        row = page.locator("#warnings tbody tr").filter(has_text=warned[0]["code"])
        expect(row.locator("td").nth(6)).to_have_text(str(len(warned[0]["serious_records"])))
    shot(page, f"staff-{name}-warnings")


def test_a_tampered_plan_opened_by_number_fails_verification(
    page: Page, web_city: WebCity, viewport: tuple[str, dict[str, int]], shot: Any
) -> None:
    sup = _auth(web_city, "supervisor")
    body = {"sector": "catering", "period": "2026H2", "seed": f"tamper-{viewport[0]}-0001"}
    r = httpx.post(f"{web_city.url}/v1/supervisor/plans", json=body, headers=sup)
    assert r.status_code == 201, r.text
    plan_no = r.json()["plan_no"]
    with web_city.engine.begin() as c:  # the published digest no longer matches the selection
        c.execute(
            sa.text("UPDATE inspection_plans SET selection_digest = :d WHERE plan_no = :n"),
            {"d": "0" * 64, "n": plan_no},
        )
    page.goto(web_city.sign_in_url("supervisor", "staff"))
    _tab(page, "双随机抽查")
    page.get_by_label("计划编号", exact=True).fill(plan_no)
    page.get_by_role("button", name="打开", exact=True).click()
    expect(page.locator("#plan-hash")).to_have_text("0" * 64)
    page.get_by_role("button", name="用种子验证").click()
    failed = page.locator("[data-verified=false]")
    expect(failed).to_contain_text("验证失败")
    expect(failed.locator("li").first).to_contain_text("selection")
    expect(page.get_by_role("alert")).to_be_visible()
    shot(page, f"staff-{viewport[0]}-plan-tampered")
    page.get_by_label("计划编号", exact=True).fill("NOPE-1")
    page.get_by_role("button", name="打开", exact=True).click()
    expect(page.locator("#plan-view")).to_contain_text("没有这个计划")


def _open_review(city: WebCity) -> int:
    """A review request filed as the citizen (or the citizen's open one: one at a time)."""
    r = httpx.post(
        f"{city.url}/v1/me/reviews", json={"reason": "我的新工作没有计入"}, headers=_auth(city, "citizen")
    )
    if r.status_code == 201:
        return int(r.json()["id"])
    assert r.status_code == 422, r.text
    cases = httpx.get(f"{city.url}/v1/me/cases", headers=_auth(city, "citizen")).json()
    return next(int(c["id"]) for c in cases if c["case"] == "review" and c["status"] == "requested")


def test_reviewer_replays_a_decision_and_decides_a_review(
    page: Page, web_city: WebCity, viewport: tuple[str, dict[str, int]], shot: Any, model_card: str
) -> None:
    name = viewport[0]
    score_id = httpx.get(f"{web_city.url}/v1/me/score", headers=_auth(web_city, "citizen")).json()["score_id"]
    expected = httpx.get(
        f"{web_city.url}/v1/reviewer/decisions/{score_id}", headers=_auth(web_city, "reviewer")
    ).json()
    contributions = expected["contributions"]
    nonzero = [k for k, v in contributions.items() if k != "bias" and v != 0]
    review_id = _open_review(web_city)

    page.goto(web_city.sign_in_url("reviewer", "staff"))
    expect(page.get_by_role("heading", name="模型版本")).to_be_visible()
    page.get_by_role("button", name="查看 个人 v1").click()
    card = page.locator("#model-card")
    expect(card.get_by_role("heading", level=4, name="Model card: credit-person-pd v1")).to_be_visible()
    expect(card).to_contain_text("<script>")  # shown as text, never run or parsed
    assert card.locator("script, img").count() == 0
    assert page.evaluate("document.body.dataset.injected") is None
    expect(page.locator("#version")).to_contain_text("dev_auc")
    shot(page, f"staff-{name}-reviewer-models")

    _tab(page, "人群漂移")
    expect(page.get_by_role("img", name="各人群 PSI 条形图，虚线为 0.1 和 0.25 阈值")).to_be_visible()
    shot(page, f"staff-{name}-reviewer-drift")

    _tab(page, "决策回放")
    page.get_by_label("评分编号", exact=True).fill(str(score_id))
    page.get_by_role("button", name="查看").click()
    wf = page.locator("#waterfall")
    expect(wf).to_be_visible()
    assert wf.get_attribute("aria-label")
    assert wf.locator("rect.bar-up, rect.bar-down").count() == len(nonzero)
    assert wf.locator("rect.bar-base").count() == 1 and wf.locator("rect.bar-total").count() == 1
    titles = wf.locator("rect title").all_text_contents()  # full labels: the axis text may be cut
    names = {k: expected["labels"][k]["zh"] for k in nonzero}
    assert {t.rsplit(": ", 1)[0] for t in titles} == {*names.values(), "基准（bias）", "合计"}
    table_rows = page.locator("#contributions tbody tr")
    expect(table_rows).to_have_count(len(contributions) + 1)  # every feature, the bias and the total
    replay = page.locator("#replay")
    expect(replay).to_have_attribute("data-ok", "true")
    stored = expected["stored"]["score"]
    assert expected["replay"]["score"] == stored
    expect(replay).to_contain_text(f"信用分 {stored}")
    expect(page.locator("#inputs tbody tr")).to_have_count(len(expected["inputs"]))
    shot(page, f"staff-{name}-reviewer-decision")

    _tab(page, "复核申请")
    item = page.locator(f"li[data-review-id='{review_id}']")
    expect(item).to_be_visible()
    item.get_by_label("决定", exact=True).select_option("confirmed")
    item.get_by_label("书面理由", exact=True).fill("记录核对无误，维持原分。")
    shot(page, f"staff-{name}-reviewer-review")
    item.get_by_role("button", name="提交决定").click()
    expect(page.locator("#review-status")).to_contain_text(f"#{review_id}")
    expect(page.locator(f"li[data-review-id='{review_id}']")).to_have_count(0)
    queue = httpx.get(f"{web_city.url}/v1/reviewer/reviews", headers=_auth(web_city, "reviewer")).json()
    assert review_id not in [q["id"] for q in queue]
    cases = httpx.get(f"{web_city.url}/v1/me/cases", headers=_auth(web_city, "citizen")).json()
    mine = next(c for c in cases if c["case"] == "review" and c["id"] == review_id)
    assert mine["status"] == "confirmed" and mine["decision_reason"] == "记录核对无误，维持原分。"
    shot(page, f"staff-{name}-reviewer-decided")


def _tab_to(page: Page, predicate: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
            return
    raise AssertionError(f"never reached by Tab: {predicate}")


def test_keyboard_sign_in_and_tabs(
    page: Page, web_city: WebCity, viewport: tuple[str, dict[str, int]], shot: Any
) -> None:
    page.goto(f"{web_city.url}/staff/")
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    shot(page, f"staff-{viewport[0]}-signin")
    _tab_to(page, "el && el.id === 'token-input'")
    page.keyboard.type(web_city.tokens["supervisor"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="企业信用等级分布")).to_be_visible()

    _tab_to(page, "el && el.tagName === 'A' && el.textContent === '双随机抽查'")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")  # focus is visible
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="生成随机抽查计划")).to_be_visible()
    _tab_to(page, "el && el.textContent === '生成并公布'")
    page.keyboard.press("Enter")  # a real button: Enter submits the plan form
    expect(page.locator("#plan")).to_be_visible()

    page.get_by_label("语言 / Language", exact=True).select_option("en")
    expect(page.get_by_role("heading", name="Draw a random inspection plan")).to_be_visible()
    shot(page, f"staff-{viewport[0]}-english-plans")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('credit.token')") is None


def test_other_roles_and_bad_tokens_are_turned_away(page: Page, web_city: WebCity) -> None:
    page.goto(web_city.sign_in_url("citizen", "staff"))
    expect(page.get_by_role("link", name="我的信用")).to_have_attribute("href", "/app/")
    page.get_by_role("button", name="退出").click()
    page.get_by_label("登录令牌", exact=True).fill("not-a-token")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("令牌无法识别")


def test_no_request_leaves_the_origin(page: Page, web_city: WebCity, model_card: str) -> None:
    origin = urlsplit(web_city.url)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(web_city.sign_in_url("supervisor", "staff"))
    expect(page.get_by_role("img", name="各行业企业信用等级分布：堆叠条形图")).to_be_visible()
    _tab(page, "双随机抽查")
    page.get_by_role("button", name="生成并公布").click()
    with page.expect_download():
        page.get_by_role("button", name="下载 CSV").click()
    for tab in ("评分覆盖率", "信用预警"):
        _tab(page, tab)
        page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="退出").click()
    page.goto(web_city.sign_in_url("reviewer", "staff"))
    page.get_by_role("button", name="查看 个人 v1").click()
    expect(page.locator("#model-card")).to_be_visible()
    for tab in ("人群漂移", "复核申请", "决策回放"):
        _tab(page, tab)
        page.wait_for_load_state("networkidle")
    assert any("/v1/reviewer/" in u for u in seen) and any("/v1/supervisor/" in u for u in seen)
    foreign = [
        u
        for u in seen
        if not u.startswith(("data:", f"blob:{web_city.url}/"))  # the CSV download is a blob of this page
        and (urlsplit(u).scheme, urlsplit(u).netloc) != (origin.scheme, origin.netloc)
    ]
    assert foreign == []
