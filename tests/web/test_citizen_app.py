"""The citizen app and the enterprise view in headless Chromium, at a phone and a desktop viewport:
sign in, the score with its tier, date, reasons, recourse and history; an objection filed and
listed; a consent granted and revoked; the enterprise's class and records; the page's weight, its
origin, labels, contrast and keyboard use. What the pages show is compared with what the API
answers for the same token."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

WebCity = Any  # tests/web/conftest.py's WebCity: url, tokens, sign_in_url(role)


def _get(city: WebCity, path: str, role: str = "citizen") -> Any:
    req = urllib.request.Request(city.url + path, headers={"Authorization": f"Bearer {city.tokens[role]}"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def _post(city: WebCity, path: str, body: dict[str, Any], role: str) -> Any:
    req = urllib.request.Request(
        city.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {city.tokens[role]}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


@pytest.fixture
def page(browser: Any, viewport: tuple[str, dict[str, int]]) -> Any:
    name, size = viewport
    context = browser.new_context(viewport=size, locale="zh-CN", device_scale_factor=1)
    p = context.new_page()
    p.viewport_name = name
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.js_errors = errors
    yield p
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def test_citizen_signs_in_and_sees_score_reasons_recourse_and_history(
    page: Any, web_city: WebCity, shot: Any
) -> None:
    score = _get(web_city, "/v1/me/score")
    recourse = _get(web_city, "/v1/me/recourse")
    history = _get(web_city, "/v1/me/history")["scores"]
    page.goto(web_city.sign_in_url("citizen"))
    dial = page.locator(".dial svg")
    dial.wait_for()
    assert page.url == f"{web_city.url}/app/"  # the token left the address bar
    assert dial.get_attribute("aria-label") == f"信用分 {score['score']}, {score['tier']['zh']}"
    assert page.locator(".dial .num").text_content() == str(score["score"])
    card = page.locator("section", has=page.locator("#score-h")).inner_text()
    assert f"评分日期 {score['as_of']}" in card and f"模型版本 {score['model_version']}" in card
    reasons = page.locator("section[aria-labelledby=reasons-h] li")
    assert reasons.count() == len(score["reasons"])
    assert reasons.nth(0).inner_text().endswith(score["reasons"][0]["zh"])
    actions = page.locator("section[aria-labelledby=recourse-h] ol > li")
    assert actions.count() == len(recourse["actions"]) > 0
    assert f"+{recourse['actions'][0]['gain']} 分" in actions.nth(0).inner_text()
    assert page.locator("section[aria-labelledby=hist-h] circle").count() == len(history) == 2
    shot(page, f"citizen-score-{page.viewport_name}")

    page.select_option("#lang", "en")
    page.locator("#reasons-h", has_text="What affects your score most").wait_for()
    assert score["reasons"][0]["en"] in page.locator("section[aria-labelledby=reasons-h]").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, f"citizen-score-en-{page.viewport_name}")
    page.select_option("#lang", "zh")


def test_citizen_files_an_objection_and_sees_it_listed(page: Any, web_city: WebCity, shot: Any) -> None:
    uid = "u1-1" if page.viewport_name == "phone" else "u1-2"
    page.goto(web_city.sign_in_url("citizen"))
    page.get_by_role("link", name="信用记录").click()
    item = page.locator("#records > li", has_text=uid)
    item.get_by_role("button", name="提出异议").click()
    item.get_by_label("异议理由").fill("这笔水费按时缴纳了")
    item.get_by_label("证据（如票据号，可不填）").fill("收据 2026-0042")
    shot(page, f"citizen-objection-form-{page.viewport_name}")
    item.get_by_role("button", name="提交").click()
    page.locator("#cases").wait_for()
    assert page.url.endswith("#/cases")
    assert "异议已提交" in page.locator("[role=status]").first.inner_text()
    listed = page.locator("#cases > li", has_text=uid)
    assert "异议" in listed.inner_text() and "异议处理中" in listed.inner_text()
    shot(page, f"citizen-cases-{page.viewport_name}")
    cases = [c for c in _get(web_city, "/v1/me/cases") if c.get("record_uid") == uid]
    assert [(c["case"], c["status"], c["reason"]) for c in cases] == [
        ("objection", "disputed", "这笔水费按时缴纳了")
    ]
    page.get_by_role("link", name="信用记录").click()
    disputed = page.locator("#records > li", has_text=uid)
    assert "异议处理中" in disputed.inner_text()
    assert disputed.get_by_role("button").count() == 0  # no second objection to the same record


def test_citizen_filters_the_records(page: Any, web_city: WebCity) -> None:
    records = _get(web_city, "/v1/me/file")["records"]
    negative = [
        r for r in records if r["polarity"] == "negative" or r["outcome"] in ("late", "arrears", "overdue")
    ]
    page.goto(web_city.sign_in_url("citizen"))
    page.get_by_role("link", name="信用记录").click()
    page.locator("#records > li").first.wait_for()
    assert page.locator("#records > li").count() == len(records)
    page.get_by_label("显示").select_option("negative")
    assert page.locator("#records > li").count() == len(negative) > 0
    assert page.locator("#records").locator("..").get_by_role("status").inner_text() == (
        f"显示 {len(negative)} 条，共 {len(records)} 条"
    )
    assert {page.locator("#records > li .mono").nth(i).inner_text() for i in range(len(negative))} == {
        r["record_uid"] for r in negative
    }


def test_citizen_asks_for_a_review_and_follows_it_to_the_decision(
    page: Any, web_city: WebCity, shot: Any
) -> None:
    page.goto(web_city.sign_in_url("citizen"))
    page.get_by_role("link", name="对分数有疑问？申请人工复核").click()
    page.get_by_label("复核理由").fill(f"我换了新工作（{page.viewport_name}）")
    page.get_by_role("button", name="提交").click()
    page.locator(".notice.ok", has_text="复核申请已提交").wait_for()
    item = page.locator("#cases > li", has_text=f"我换了新工作（{page.viewport_name}）")
    assert "人工复核" in item.inner_text() and "待复核" in item.inner_text()
    open_reviews = [
        c for c in _get(web_city, "/v1/me/cases") if c["case"] == "review" and c["status"] == "requested"
    ]
    assert len(open_reviews) == 1
    decided = _post(
        web_city,
        f"/v1/reviewer/reviews/{open_reviews[0]['id']}/decision",
        {"outcome": "confirmed", "reason": "记录核实无误"},
        "reviewer",
    )
    page.reload()
    item = page.locator("#cases > li", has_text=f"我换了新工作（{page.viewport_name}）")
    text = item.inner_text()
    assert "维持原分" in text and "处理结果：记录核实无误" in text
    assert f"复核前 {decided['score_before']} 分，复核后 {decided['score_after']} 分" in text
    shot(page, f"citizen-review-{page.viewport_name}")


def test_citizen_grants_and_revokes_a_consent(page: Any, web_city: WebCity, shot: Any) -> None:
    purpose = "credit_card" if page.viewport_name == "phone" else "mortgage"
    page.goto(web_city.sign_in_url("citizen"))
    page.get_by_role("link", name="授权").click()
    page.get_by_label("银行代码").fill("citybank")
    page.get_by_label("用途").select_option(purpose)
    page.get_by_role("button", name="授权", exact=True).click()
    page.locator(".notice.ok", has_text="授权成功").wait_for()
    mine = [c for c in _get(web_city, "/v1/me/consents") if c["purpose"] == purpose and c["active"]]
    assert len(mine) == 1
    label = {"credit_card": "信用卡", "mortgage": "住房贷款"}[purpose]
    item = page.locator("#consents > li", has_text=label).filter(has_text="有效")
    shot(page, f"citizen-consents-{page.viewport_name}")
    button = item.get_by_role("button", name="撤销授权")
    button.click()
    item.get_by_role("button", name="确认撤销").click()  # two steps: no revocation by a stray tap
    page.locator(".notice.ok", has_text="授权已撤销").wait_for()
    after = {c["id"]: c for c in _get(web_city, "/v1/me/consents")}
    assert after[mine[0]["id"]]["revoked_at"] is not None and not after[mine[0]["id"]]["active"]
    assert page.locator("#consents > li", has_text=label).filter(has_text="有效").count() == 0


def test_citizen_sees_benefits_and_who_looked(page: Any, web_city: WebCity, shot: Any) -> None:
    benefits = _get(web_city, "/v1/me/benefits")["benefits"]
    page.goto(web_city.sign_in_url("citizen"))
    page.get_by_role("link", name="信用权益").click()
    page.locator("text=我的信用权益").wait_for()
    items = page.locator("section", has=page.locator("h2", has_text="我的信用权益")).locator("li")
    assert items.count() == len(benefits)
    first = benefits[0]
    expected = "可享受" if first["eligible"] else "暂不可享受"
    assert first["name"] in items.nth(0).inner_text() and expected in items.nth(0).inner_text()
    shot(page, f"citizen-benefits-{page.viewport_name}")
    page.get_by_role("link", name="查询记录").click()
    rows = page.locator("#queries tbody tr")
    rows.first.wait_for()
    queries = _get(web_city, "/v1/me/queries")["queries"]
    assert rows.count() >= 1 and rows.count() <= len(queries)
    shot(page, f"citizen-queries-{page.viewport_name}")


def test_enterprise_representative_sees_class_reasons_and_records(
    page: Any, web_city: WebCity, shot: Any
) -> None:
    orgs = _get(web_city, "/v1/whoami", "enterprise_rep")["orgs"]
    listed = _get(web_city, f"/v1/orgs/{orgs[0]}/score", "enterprise_rep")
    page.goto(web_city.sign_in_url("enterprise_rep"))
    page.locator("text=企业信用等级").wait_for()
    body = page.locator("main").inner_text()
    assert f"{listed['class']} 类" in body and "严重失信主体名单" in body
    assert page.locator("section[aria-labelledby=reasons-h] li").count() == len(listed["reasons"])
    shot(page, f"enterprise-class-{page.viewport_name}")
    page.get_by_role("link", name="企业记录").click()
    records = _get(web_city, f"/v1/orgs/{orgs[0]}/file", "enterprise_rep")["records"]
    page.locator("#records > li").first.wait_for()
    assert page.locator("#records > li").count() == len(records)
    page.select_option("#org", orgs[1])
    page.locator("#records > li").first.wait_for()
    other = _get(web_city, f"/v1/orgs/{orgs[1]}/file", "enterprise_rep")["records"]
    assert page.locator("#records > li").count() == len(other)
    page.get_by_role("link", name="企业授权").click()
    page.locator("text=企业授权的银行").wait_for()
    shot(page, f"enterprise-consents-{page.viewport_name}")


def test_first_load_is_small_local_and_accessible(page: Any, web_city: WebCity, shot: Any) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(web_city.sign_in_url("citizen"))
    page.locator(".dial svg").wait_for()
    page.wait_for_load_state("networkidle")
    sizes = page.evaluate(
        "() => [performance.getEntriesByType('navigation')[0].transferSize,"
        " ...performance.getEntriesByType('resource').map(e => e.transferSize)]"
    )
    assert 0 < sum(sizes) <= 200 * 1024, sizes
    assert urls and all(u.startswith(web_city.url + "/") for u in urls), urls
    unlabeled = page.evaluate(
        "() => [...document.querySelectorAll('input, select, textarea')]"
        ".filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.outerHTML)"
    )
    assert unlabeled == []
    worst = page.evaluate(CONTRAST_JS)
    assert worst["ratio"] >= 4.5, worst
    # keyboard: Tab to the records tab and open it with Enter
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "信用记录":
            break
    page.keyboard.press("Enter")
    page.locator("#records").wait_for()
    assert page.url.endswith("#/records")


def test_sign_in_form_refuses_a_bad_token_and_sign_out_forgets_the_token(
    page: Any, web_city: WebCity
) -> None:
    page.goto(f"{web_city.url}/app/")
    page.get_by_label("登录令牌（开发环境）").fill("not-a-token")
    page.get_by_role("button", name="登录").click()
    assert "无法识别" in page.locator("[role=alert]").inner_text()
    page.get_by_label("登录令牌（开发环境）").fill(web_city.tokens["citizen"])
    page.get_by_role("button", name="登录").click()
    page.locator(".dial svg").wait_for()
    page.get_by_role("button", name="退出").click()
    page.get_by_label("登录令牌（开发环境）").wait_for()
    assert page.evaluate("() => sessionStorage.getItem('credit.token')") is None
    staff = page.context.new_page()
    staff.goto(f"{web_city.url}/app/#token={web_city.tokens['supervisor']}")
    staff.get_by_role("link", name="工作人员页面").wait_for()


CONTRAST_JS = """() => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const bg = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let worst = { ratio: 99, text: '' };
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('.sr')) continue;
    const a = lum(parse(style.color).slice(0, 3)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < worst.ratio) worst = { ratio, text: el.textContent.trim().slice(0, 40), tag: el.tagName };
  }
  return worst;
}"""


def test_demo_credentials_print_sign_in_links_that_open_each_page(
    browser: Any, web_city: WebCity, monkeypatch: pytest.MonkeyPatch, shot: Any
) -> None:
    import re

    from typer.testing import CliRunner

    from api.cli import app
    from scoring.settings import get_settings

    s = web_city.settings
    env = {"DATABASE_URL": s.database_url, "ENVIRONMENT": "test", "VAR_DIR": str(s.var_dir),
           "BUNDLE_DIR": str(s.bundle_dir)}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(f"CREDIT_{name}", value)
    get_settings.cache_clear()
    try:
        port = web_city.url.rsplit(":", 1)[1]
        out = CliRunner().invoke(app, ["demo-credentials", "--port", port])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert f"Citizen app: {web_city.url}/app/   Staff pages: {web_city.url}/staff/" in out.output
    links = dict(
        re.findall(
            r"^  (citizen|enterprise_rep|supervisor|reviewer)\s+(http://\S+#token=\S+)$", out.output, re.M
        )
    )
    assert sorted(links) == ["citizen", "enterprise_rep", "reviewer", "supervisor"]
    assert links["citizen"].startswith(f"{web_city.url}/app/#token=")
    assert links["supervisor"].startswith(f"{web_city.url}/staff/#token=")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(links["citizen"])
    page.locator(".dial svg").wait_for()  # the demo citizen has a score
    page.goto(links["enterprise_rep"])  # a new token in the fragment replaces the old one
    page.locator("text=企业信用等级").wait_for()
    context.close()
