// The citizen's app (also the enterprise representative's view), on the service's /v1 API.
import {
  ApiError, api, claims, clear, fmtDate, fmtDateTime, fmtNumber, h, idempotencyKey, language, lineChart,
  notice, s, setDictionary, setLanguage, signIn, signOut, svgFigure, t, takeTokenFromUrl, tr,
} from "/web/api.js";

const TEXT = {
  zh: {
    title: "我的信用", orgTitle: "企业信用", signout: "退出", tabsLabel: "主菜单",
    signinTitle: "登录", signinIntro: "使用身份认证平台的登录链接进入。开发环境中，可粘贴 credit demo-credentials 打印的登录令牌。",
    tokenLabel: "登录令牌（开发环境）", signin: "登录", expired: "登录已失效，请重新登录。", badToken: "这个令牌无法识别，请检查后重试。",
    wrongRole: "此应用供个人和企业代表使用；监管和模型评审人员请前往", staffLink: "工作人员页面",
    "tab.score": "信用分", "tab.benefits": "信用权益", "tab.records": "信用记录", "tab.cases": "异议与修复",
    "tab.consents": "授权", "tab.queries": "查询记录", "tab.org": "企业信用", "tab.orgRecords": "企业记录",
    "tab.orgConsents": "企业授权", "tab.orgQueries": "企业查询记录",
    loading: "加载中…", scoreDate: "评分日期 {date}", model: "模型版本 {v}", range: "信用分范围 350–950",
    noFile: "尚未建立您的信用档案。", noScore: "尚未发布您的信用分。",
    reasons: "影响信用分的主要原因", lowering: "拉低分数", raising: "提高分数", points: "{p} 分",
    basedOn: "依据 {n} 条记录", recourse: "如何提高信用分", recourseNone: "暂无可以提高分数的建议。",
    projected: "预计 {score} 分", gain: "+{g} 分", fromDate: "{date} 起",
    history: "信用分变化", historyLabel: "信用分历史折线图", historyEmpty: "还没有历史分数。",
    flags: "名单标记", askReview: "对分数有疑问？申请人工复核",
    benefits: "我的信用权益", eligible: "可享受", notEligible: "暂不可享受", creditLine: "信用额度 {x} 元",
    provider: "提供方 {p}", myGrants: "已获得的权益", obligations: "待结清的先享后付", suspensions: "暂停中的权益",
    noGrants: "暂无。", records: "我的信用记录", recordsIntro: "记录的状态、公示期至何时。对记录有异议可提出异议；负面记录可在满足条件后申请信用修复。",
    filter: "显示", "filter.all": "全部记录", "filter.negative": "负面和逾期记录", "filter.public": "公示中的记录",
    "filter.cases": "异议、撤销或修复过的记录", recordCount: "显示 {n} 条，共 {total} 条",
    publicityEnd: "公示期至 {date}", inPublicity: "公示中", outPublicity: "已过公示期", department: "报送部门 {d}",
    object: "提出异议", repair: "申请信用修复", cancel: "取消", submit: "提交",
    objReason: "异议理由", objEvidence: "证据（如票据号，可不填）", repProof: "已纠正失信行为的证明", repCommitment: "信用承诺书编号",
    objFiled: "异议已提交，记录在处理期间不用于评分。", repFiled: "修复申请已提交。",
    cases: "我的异议、修复和复核", noCases: "还没有申请。", reviewTitle: "申请人工复核信用分", reviewReason: "复核理由",
    reviewFiled: "复核申请已提交。", "case.objection": "异议", "case.repair": "信用修复", "case.review": "人工复核",
    due: "办理期限 {date}", overdue: "已超期", decision: "处理结果：{r}", scoreChange: "复核前 {a} 分，复核后 {b} 分",
    consents: "我授权的银行", noConsents: "没有授权。", active: "有效", inactive: "无效", revoke: "撤销授权",
    confirmRevoke: "确认撤销", revoked: "授权已撤销。", period: "{from} 至 {to}", grantTitle: "授权银行查询我的信用",
    bank: "银行代码", purpose: "用途", validTo: "有效期至", grant: "授权", granted: "授权成功。",
    queries: "谁查询了我的信用", noQueries: "暂无查询记录。", when: "时间", who: "查询方", why: "事由",
    self: "本人", orgPick: "选择企业", classTitle: "企业信用等级", classLabel: "{c} 类", pd: "违约概率 {p}",
    downgrade: "因名单调整等级：", orgRecords: "企业信用记录", orgConsents: "企业授权的银行", orgQueries: "谁查询了企业信用",
    "status.recorded": "正常", "status.disputed": "异议处理中", "status.withdrawn": "已撤销", "status.corrected": "已更正",
    "status.repaired": "已修复", "status.expired": "已过期", "status.filed": "已提交", "status.upheld": "异议成立",
    "status.rejected": "未予支持", "status.applied": "已申请", "status.accepted": "已受理", "status.approved": "已批准",
    "status.not_accepted": "不予受理", "status.requested": "待复核", "status.confirmed": "维持原分", "status.corrected_score": "已更正",
    "purpose.credit_loan": "信用贷款", "purpose.credit_card": "信用卡", "purpose.mortgage": "住房贷款",
    "purpose.guarantee": "担保", "purpose.account_opening": "开户",
    "outcome.paid": "已缴", "outcome.late": "逾期", "outcome.arrears": "欠缴", "outcome.on_time": "按时",
    "outcome.unpaid": "未缴", "outcome.overdue": "逾期", "outcome.repaid": "已还清", "outcome.A": "A 级", "outcome.B": "B 级",
    "outcome.M": "M 级", "outcome.C": "C 级", "outcome.D": "D 级",
    "role.citizen": "本人", "role.enterprise_rep": "企业代表", "role.bank": "银行", "role.partner": "权益合作方",
    "role.supervisor": "监管人员", "role.reviewer": "模型评审", "role.department": "报送部门", "role.admin": "管理员",
  },
  en: {
    title: "My credit", orgTitle: "Enterprise credit", signout: "Sign out", tabsLabel: "Main menu",
    signinTitle: "Sign in", signinIntro: "Sign in with the link from the identity platform. In development, paste a sign-in token printed by credit demo-credentials.",
    tokenLabel: "Sign-in token (development)", signin: "Sign in", expired: "Your session has ended; please sign in again.", badToken: "This token is not recognised; check it and try again.",
    wrongRole: "This app is for citizens and enterprise representatives; supervisors and reviewers go to the", staffLink: "staff pages",
    "tab.score": "Score", "tab.benefits": "Benefits", "tab.records": "Records", "tab.cases": "Objections & repair",
    "tab.consents": "Consents", "tab.queries": "Who looked", "tab.org": "Class", "tab.orgRecords": "Records",
    "tab.orgConsents": "Consents", "tab.orgQueries": "Who looked",
    loading: "Loading…", scoreDate: "Scored as of {date}", model: "Model version {v}", range: "Scores run from 350 to 950",
    noFile: "There is no credit file for you yet.", noScore: "No score has been published for you yet.",
    reasons: "What affects your score most", lowering: "Lowers it", raising: "Raises it", points: "{p} points",
    basedOn: "Based on {n} records", recourse: "How to raise my score", recourseNone: "No suggestion would raise your score now.",
    projected: "About {score}", gain: "+{g} points", fromDate: "From {date}",
    history: "My score over time", historyLabel: "Line chart of my score history", historyEmpty: "No earlier scores yet.",
    flags: "List flags", askReview: "Questions about your score? Ask for a person to review it",
    benefits: "My benefits", eligible: "Eligible", notEligible: "Not eligible", creditLine: "Credit line {x} yuan",
    provider: "Provided by {p}", myGrants: "Benefits granted", obligations: "Pay-later bills to settle", suspensions: "Suspended benefits",
    noGrants: "None.", records: "My credit records", recordsIntro: "Each record's status and the end of its publicity period. Object to a record you think is wrong; apply to repair a negative record once allowed.",
    filter: "Show", "filter.all": "All records", "filter.negative": "Negative and late records", "filter.public": "Records still public",
    "filter.cases": "Records objected to, withdrawn or repaired", recordCount: "{n} shown of {total}",
    publicityEnd: "Public until {date}", inPublicity: "Public", outPublicity: "No longer public", department: "Reported by {d}",
    object: "Object", repair: "Apply for repair", cancel: "Cancel", submit: "Submit",
    objReason: "Why the record is wrong", objEvidence: "Evidence (e.g. a receipt number; optional)", repProof: "Proof that the conduct was corrected", repCommitment: "Credit commitment number",
    objFiled: "Objection filed; the record is not used for scoring while it is decided.", repFiled: "Repair application filed.",
    cases: "My objections, repairs and reviews", noCases: "Nothing filed yet.", reviewTitle: "Ask for a person to review my score", reviewReason: "Why",
    reviewFiled: "Review requested.", "case.objection": "Objection", "case.repair": "Credit repair", "case.review": "Score review",
    due: "Due {date}", overdue: "Overdue", decision: "Decision: {r}", scoreChange: "Score before {a}, after {b}",
    consents: "Banks I allowed", noConsents: "No consents.", active: "Active", inactive: "Inactive", revoke: "Revoke",
    confirmRevoke: "Confirm revoke", revoked: "Consent revoked.", period: "{from} to {to}", grantTitle: "Let a bank read my credit",
    bank: "Bank code", purpose: "Purpose", validTo: "Valid until", grant: "Allow", granted: "Consent granted.",
    queries: "Who looked at my credit", noQueries: "No one yet.", when: "When", who: "Who", why: "Why",
    self: "You", orgPick: "Enterprise", classTitle: "Enterprise credit class", classLabel: "Class {c}", pd: "Probability of default {p}",
    downgrade: "Class lowered by a listing:", orgRecords: "Enterprise credit records", orgConsents: "Banks the enterprise allowed", orgQueries: "Who looked at the enterprise's credit",
    "status.recorded": "In force", "status.disputed": "Under objection", "status.withdrawn": "Withdrawn", "status.corrected": "Corrected",
    "status.repaired": "Repaired", "status.expired": "Expired", "status.filed": "Filed", "status.upheld": "Upheld",
    "status.rejected": "Rejected", "status.applied": "Applied", "status.accepted": "Accepted", "status.approved": "Approved",
    "status.not_accepted": "Not accepted", "status.requested": "Awaiting review", "status.confirmed": "Score confirmed", "status.corrected_score": "Corrected",
    "purpose.credit_loan": "Credit loan", "purpose.credit_card": "Credit card", "purpose.mortgage": "Mortgage",
    "purpose.guarantee": "Guarantee", "purpose.account_opening": "Account opening",
    "outcome.paid": "Paid", "outcome.late": "Late", "outcome.arrears": "In arrears", "outcome.on_time": "On time",
    "outcome.unpaid": "Unpaid", "outcome.overdue": "Overdue", "outcome.repaid": "Repaid", "outcome.A": "Level A", "outcome.B": "Level B",
    "outcome.M": "Level M", "outcome.C": "Level C", "outcome.D": "Level D",
    "role.citizen": "You", "role.enterprise_rep": "Enterprise representative", "role.bank": "Bank", "role.partner": "Benefit partner",
    "role.supervisor": "Supervisor", "role.reviewer": "Model reviewer", "role.department": "Department", "role.admin": "Administrator",
  },
};
const BENEFIT_REASONS_EN = {
  score_below: "Score below this benefit's minimum", subject_type: "Not offered to this kind of subject",
  listed: "On a serious-dishonesty or black list", overdue_obligation: "A pay-later bill is overdue",
  no_score: "No score in force", tier_below: "Tier below this benefit's minimum", class_below: "Class below the minimum",
  quota: "Quota used up", minor: "Not offered to minors",
};
const PURPOSES = ["credit_loan", "credit_card", "mortgage", "guarantee", "account_opening"];
const CITIZEN_TABS = ["score", "benefits", "records", "cases", "consents", "queries"];
const ORG_TABS = ["org", "orgRecords", "orgConsents", "orgQueries"];

setDictionary(TEXT);
const main = () => document.getElementById("main");
/** The translation of key, or the raw value when the dictionary has none. */
const known = (key, raw) => (t(key) === key ? String(raw) : t(key));
let me = null;
let org = null;

// ---- frame -----------------------------------------------------------------------------------

function tabsFor(role) {
  return role === "enterprise_rep" ? ORG_TABS : CITIZEN_TABS;
}

function currentTab() {
  const name = location.hash.replace(/^#\/?/, "").split("/")[0];
  const tabs = tabsFor(me.role);
  return tabs.includes(name) ? name : tabs[0];
}

function renderFrame() {
  document.getElementById("title").textContent = t(me && me.role === "enterprise_rep" ? "orgTitle" : "title");
  document.title = `${t(me && me.role === "enterprise_rep" ? "orgTitle" : "title")} · ${language() === "zh" ? "公共信用" : "Public credit"}`;
  const out = document.getElementById("signout");
  out.textContent = t("signout");
  out.hidden = !me;
  const nav = document.getElementById("tabs");
  nav.setAttribute("aria-label", t("tabsLabel"));
  nav.hidden = !me;
  if (!me) return;
  const active = currentTab();
  clear(nav, tabsFor(me.role).map((name) =>
    h("a", { href: `#/${name}`, "aria-current": name === active ? "page" : null }, t(`tab.${name}`))));
}

let renders = 0;

async function render() {
  const mine = ++renders; // only the latest navigation may write the page
  me = claims();
  renderFrame();
  const root = main();
  if (!me) return clear(root, signInView());
  if (!["citizen", "enterprise_rep"].includes(me.role)) {
    return clear(root, h("section", { class: "card" }, h("p", {}, t("wrongRole"), " ", h("a", { href: "/staff/" }, t("staffLink")))));
  }
  clear(root, notice("info", t("loading")));
  const tab = currentTab();
  try {
    const view = await VIEWS[tab]();
    if (mine === renders) clear(root, view);
  } catch (err) {
    if (mine !== renders) return;
    if (err instanceof ApiError && err.status === 401) {
      signOut();
      me = null;
      renderFrame();
      return clear(root, notice("error", t("expired")), signInView());
    }
    clear(root, notice("error", errorText(err)));
  }
}

function errorText(err) {
  if (err instanceof ApiError) {
    if (err.problem && err.problem.type && String(err.problem.type).endsWith("no-credit-file")) return t("noFile");
    if (err.problem && err.problem.type && String(err.problem.type).endsWith("no-score")) return t("noScore");
    return err.message;
  }
  return String(err);
}

function signInView() {
  const input = h("input", { id: "token", name: "token", autocomplete: "off", spellcheck: "false", required: true });
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", {
    onsubmit: (e) => {
      e.preventDefault();
      signIn(input.value);
      if (!claims()) {
        signOut();
        clear(msg, notice("error", t("badToken")));
        return;
      }
      location.hash = "";
      render();
    },
  },
  h("label", { for: "token" }, t("tokenLabel")), input, h("div", { class: "actions" }, h("button", { type: "submit" }, t("signin"))), msg);
  return h("section", { class: "card" }, h("h2", {}, t("signinTitle")), h("p", { class: "muted" }, t("signinIntro")), form);
}

// ---- score -----------------------------------------------------------------------------------

const TIERS = ["poor", "fair", "good", "very_good", "excellent"];

function dial(score, tier) {
  const f = Math.max(0, Math.min(1, (score - 350) / 600));
  const arc = "M 40 170 A 120 120 0 0 1 280 170";
  const code = TIERS.includes(tier.code) ? tier.code : "good";
  return h("div", { class: "dial" }, svgFigure(320, 200, `${t("tab.score")} ${score}, ${tr(tier)}`,
    s("path", { d: arc, class: "track", pathLength: 100 }),
    s("path", { d: arc, class: `value t-${code}`, pathLength: 100, "stroke-dasharray": `${(f * 100).toFixed(2)} 100` }),
    s("text", { x: 160, y: 140, "text-anchor": "middle", class: "num" }, score),
    s("text", { x: 160, y: 172, "text-anchor": "middle", class: "tier" }, tr(tier)),
    s("text", { x: 40, y: 195, "text-anchor": "middle", class: "ends" }, 350),
    s("text", { x: 280, y: 195, "text-anchor": "middle", class: "ends" }, 950)));
}

function reasonList(reasons) {
  if (!reasons.length) return null;
  const part = (dir) => {
    const items = reasons.filter((r) => r.direction === dir);
    if (!items.length) return null;
    return h("div", {}, h("h3", {}, t(dir)), h("ul", { class: "plain" }, items.map((r) =>
      h("li", { class: "reason" },
        h("span", { class: `pts ${r.points < 0 ? "down" : "up"}` }, `${r.points > 0 ? "+" : ""}${Math.round(r.points)}`),
        h("span", {}, tr(r))))));
  };
  return h("section", { class: "card", "aria-labelledby": "reasons-h" }, h("h2", { id: "reasons-h" }, t("reasons")), part("lowering"), part("raising"));
}

function recourseCard(rec) {
  const actions = (rec && rec.actions) || [];
  return h("section", { class: "card", "aria-labelledby": "recourse-h" }, h("h2", { id: "recourse-h" }, t("recourse")),
    actions.length
      ? h("ol", {}, actions.map((a) => h("li", {},
          h("p", {}, tr(a)),
          h("p", { class: "small" }, h("span", { class: "gain" }, t("gain", { g: a.gain })), " · ", t("projected", { score: a.projected_score })))))
      : h("p", { class: "muted" }, t("recourseNone")));
}

function historyCard(hist) {
  const points = hist.scores.filter((x) => x.score !== null).map((x) => ({ x: fmtDate(x.as_of).slice(0, 7), y: x.score }));
  const body = points.length
    ? [lineChart(points, { label: t("historyLabel"), yMin: 350, yMax: 950 }),
       h("table", { class: "sr" }, h("caption", {}, t("history")), h("tbody", {}, points.map((p) => h("tr", {}, h("td", {}, p.x), h("td", {}, p.y)))))]
    : [h("p", { class: "muted" }, t("historyEmpty"))];
  return h("section", { class: "card", "aria-labelledby": "hist-h" }, h("h2", { id: "hist-h" }, t("history")), body);
}

async function scoreView() {
  const score = await api("/v1/me/score");
  const [rec, hist] = await Promise.all([
    score.state === "scored" ? api("/v1/me/recourse") : Promise.resolve(null),
    api("/v1/me/history"),
  ]);
  const head = score.state === "scored"
    ? [dial(score.score, score.tier)]
    : [h("p", { class: "center", role: "status" }, h("strong", {}, tr(score.tier))), h("p", {}, tr(score.message))];
  return [
    h("section", { class: "card center", "aria-labelledby": "score-h" }, h("h2", { id: "score-h", class: "sr" }, t("tab.score")), head,
      h("p", { class: "muted small" }, t("scoreDate", { date: fmtDate(score.as_of) }), " · ", t("model", { v: score.model_version })),
      h("p", { class: "muted small" }, t("range")),
      score.flags && score.flags.length ? h("p", {}, h("strong", {}, t("flags")), ": ", score.flags.map(tr).join("、")) : null),
    reasonList(score.reasons || []),
    score.state === "scored" ? recourseCard(rec) : null,
    historyCard(hist),
    h("p", { class: "center" }, h("a", { href: "#/cases" }, t("askReview"))),
  ];
}

// ---- benefits --------------------------------------------------------------------------------

async function benefitsView() {
  const [b, g] = await Promise.all([api("/v1/me/benefits"), api("/v1/me/grants")]);
  const reasonText = (r) => (language() === "en" ? BENEFIT_REASONS_EN[r.code] || r.text : r.text);
  const list = h("ul", { class: "plain" }, b.benefits.map((x) => h("li", {},
    h("div", { class: "head" }, h("strong", {}, x.name), " ",
      h("span", { class: `badge ${x.eligible ? "good" : "bad"}` }, t(x.eligible ? "eligible" : "notEligible"))),
    x.credit_line ? h("p", { class: "small" }, t("creditLine", { x: fmtNumber(x.credit_line) })) : null,
    x.reasons.length ? h("p", { class: "small muted" }, x.reasons.map(reasonText).join("；")) : null,
    h("p", { class: "small muted" }, t("provider", { p: x.provider })))));
  const simple = (title, rows, fmt) => h("section", { class: "card" }, h("h2", {}, title),
    rows.length ? h("ul", { class: "plain" }, rows.map((r) => h("li", {}, fmt(r)))) : h("p", { class: "muted" }, t("noGrants")));
  return [
    h("section", { class: "card" }, h("h2", {}, t("benefits")), list),
    simple(t("myGrants"), g.grants, (r) => `${r.benefit} · ${t(`status.${r.status}`) || r.status} · ${fmtDate(r.granted_at)}`),
    simple(t("obligations"), g.obligations, (r) => `${r.benefit || ""} · ${fmtNumber(r.amount, 2)} · ${t("due", { date: fmtDate(r.due_on || r.due) })}`),
    simple(t("suspensions"), g.suspensions, (r) => `${r.benefit || r.scope || ""} · ${r.reason || ""} · ${fmtDate(r.started_at || r.since)}`),
  ];
}

// ---- records, objections, repair -------------------------------------------------------------

function textField(id, label, { required = true, multiline = false } = {}) {
  const input = multiline ? h("textarea", { id, name: id, required, maxlength: 2000 }) : h("input", { id, name: id, required, maxlength: 2000 });
  return [h("label", { for: id }, label), input];
}

function caseForm(kind, record, done) {
  const id = `${kind}-${record.record_uid}`;
  const fields = kind === "objection"
    ? [textField(`${id}-reason`, t("objReason"), { multiline: true }), textField(`${id}-evidence`, t("objEvidence"), { required: false })]
    : [textField(`${id}-proof`, t("repProof"), { multiline: true }), textField(`${id}-commitment`, t("repCommitment"))];
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "inline", "aria-label": `${t(kind === "objection" ? "object" : "repair")} ${tr(record.kind_name)}` },
    fields, msg,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("submit")),
      h("button", { type: "button", class: "secondary", onclick: () => form.remove() }, t("cancel"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (suffix) => form.querySelector(`#${CSS.escape(`${id}-${suffix}`)}`).value.trim();
    const body = kind === "objection"
      ? { record_uid: record.record_uid, reason: v("reason"), evidence: v("evidence") || null }
      : { record_uid: record.record_uid, proof: v("proof"), commitment: v("commitment") };
    form.querySelector("button[type=submit]").disabled = true;
    try {
      await api(kind === "objection" ? "/v1/me/objections" : "/v1/me/repairs", { method: "POST", body });
      done(t(kind === "objection" ? "objFiled" : "repFiled"));
    } catch (err) {
      clear(msg, notice("error", errorText(err)));
      form.querySelector("button[type=submit]").disabled = false;
    }
  });
  return form;
}

function recordItem(r, { actions = true } = {}) {
  const li = h("li", { class: "record" });
  const status = r.status || "recorded";
  const badge = status === "recorded" ? "good" : status === "disputed" ? "warn" : "";
  const open = (kind) => {
    li.querySelectorAll("form").forEach((f) => f.remove());
    const form = caseForm(kind, r, (message) => {
      sessionStorage.setItem("credit.flash", message);
      location.hash = "#/cases";
    });
    li.append(form);
    form.querySelector("textarea, input").focus();
  };
  li.append(
    h("div", { class: "head" }, h("strong", {}, tr(r.kind_name) || r.kind), h("span", { class: `badge ${badge}` }, known(`status.${status}`, status))),
    h("dl", { class: "kv" },
      h("dt", {}, language() === "zh" ? "日期" : "Date"), h("dd", {}, fmtDate(r.event_date)),
      h("dt", {}, language() === "zh" ? "公示" : "Publicity"), h("dd", {}, `${t(r.in_publicity ? "inPublicity" : "outPublicity")} · ${t("publicityEnd", { date: fmtDate(r.publicity_end) })}`),
      h("dt", {}, language() === "zh" ? "部门" : "Department"), h("dd", {}, tr(r.department_name) || r.department),
      r.outcome ? [h("dt", {}, language() === "zh" ? "结果" : "Outcome"), h("dd", {}, known(`outcome.${r.outcome}`, r.outcome))] : null,
      h("dt", {}, language() === "zh" ? "编号" : "Record"), h("dd", { class: "mono small" }, r.record_uid)));
  if (actions && status === "recorded") {
    li.append(h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => open("objection") }, t("object")),
      r.polarity === "negative" ? h("button", { type: "button", class: "secondary", onclick: () => open("repair") }, t("repair")) : null));
  }
  return li;
}

const RECORD_FILTERS = {
  all: () => true,
  negative: (r) => r.polarity === "negative" || ["late", "arrears", "overdue", "unpaid"].includes(r.outcome),
  public: (r) => r.in_publicity,
  cases: (r) => (r.status || "recorded") !== "recorded",
};

async function recordsView() {
  const file = await api("/v1/me/file");
  const list = h("ul", { class: "plain", id: "records" });
  const count = h("p", { class: "small", role: "status" });
  const filter = h("select", { id: "record-filter", name: "filter" },
    Object.keys(RECORD_FILTERS).map((k) => h("option", { value: k }, t(`filter.${k}`))));
  const show = () => {
    const rows = file.records.filter(RECORD_FILTERS[filter.value]);
    clear(list, rows.map((r) => recordItem(r)));
    count.textContent = t("recordCount", { n: rows.length, total: file.records.length });
  };
  filter.addEventListener("change", show);
  show();
  return h("section", { class: "card" }, h("h2", {}, t("records")), h("p", { class: "muted small" }, t("recordsIntro")),
    h("label", { for: "record-filter" }, t("filter")), filter, count, list);
}

function caseItem(c) {
  const due = c.decide_due || (c.status === "applied" ? c.accept_due : c.result_due) || c.due;
  const status = c.case === "review" && c.status === "corrected" ? "corrected_score" : c.status;
  return h("li", { class: "case" },
    h("div", { class: "head" }, h("strong", {}, t(`case.${c.case}`)), " ",
      h("span", { class: "badge" }, known(`status.${status}`, status)), c.overdue ? h("span", { class: "badge bad" }, t("overdue")) : null),
    c.record_uid ? h("p", { class: "small mono" }, c.record_uid) : null,
    c.reason ? h("p", { class: "small" }, c.reason) : null,
    due && !c.decided_at ? h("p", { class: "small muted" }, t("due", { date: fmtDate(due) })) : null,
    c.decision_reason ? h("p", { class: "small" }, t("decision", { r: c.decision_reason })) : null,
    c.case === "review" && c.score_after !== null && c.score_after !== undefined
      ? h("p", { class: "small" }, t("scoreChange", { a: c.score_before, b: c.score_after })) : null);
}

async function casesView() {
  const cases = await api("/v1/me/cases");
  const flash = sessionStorage.getItem("credit.flash");
  sessionStorage.removeItem("credit.flash");
  const msg = h("div", { "aria-live": "polite" });
  const reason = h("textarea", { id: "review-reason", name: "reason", required: true, maxlength: 2000 });
  const form = h("form", { "aria-labelledby": "review-h" }, h("label", { for: "review-reason" }, t("reviewReason")), reason, msg,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("submit"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("/v1/me/reviews", { method: "POST", body: { reason: reason.value.trim() } });
      sessionStorage.setItem("credit.flash", t("reviewFiled"));
      render();
    } catch (err) {
      clear(msg, notice("error", errorText(err)));
    }
  });
  return [
    flash ? notice("ok", flash) : null,
    h("section", { class: "card" }, h("h2", {}, t("cases")),
      cases.length ? h("ul", { class: "plain", id: "cases" }, cases.map(caseItem)) : h("p", { class: "muted" }, t("noCases"))),
    h("section", { class: "card" }, h("h2", { id: "review-h" }, t("reviewTitle")), form),
  ];
}

// ---- consents and the query register (shared by citizen and enterprise) ----------------------

function consentsSection(base, title) {
  return (async () => {
    const rows = await api(`${base}/consents`);
    const msg = h("div", { "aria-live": "polite" });
    const list = rows.length
      ? h("ul", { class: "plain", id: "consents" }, rows.map((c) => {
          const li = h("li", {},
            h("div", { class: "head" }, h("strong", {}, c.bank), " · ", t(`purpose.${c.purpose}`), " ",
              h("span", { class: `badge ${c.active ? "good" : ""}` }, t(c.active ? "active" : "inactive"))),
            h("p", { class: "small muted" }, t("period", { from: fmtDate(c.valid_from), to: fmtDate(c.valid_to) })));
          if (c.active) {
            const btn = h("button", { type: "button", class: "danger" }, t("revoke"));
            btn.addEventListener("click", async () => {
              if (btn.dataset.armed !== "1") {
                btn.dataset.armed = "1";
                btn.textContent = t("confirmRevoke");
                return;
              }
              try {
                await api(`${base}/consents/${c.id}`, { method: "DELETE" });
                sessionStorage.setItem("credit.flash", t("revoked"));
                render();
              } catch (err) {
                clear(msg, notice("error", errorText(err)));
              }
            });
            li.append(h("div", { class: "actions" }, btn));
          }
          return li;
        }))
      : h("p", { class: "muted" }, t("noConsents"));
    const bank = h("input", { id: "grant-bank", name: "bank", required: true, minlength: 2, maxlength: 64, autocomplete: "off" });
    const purpose = h("select", { id: "grant-purpose", name: "purpose" }, PURPOSES.map((p) => h("option", { value: p }, t(`purpose.${p}`))));
    const until = new Date(Date.now() + 180 * 86400000).toISOString().slice(0, 10);
    const validTo = h("input", { id: "grant-to", name: "valid_to", type: "date", required: true, value: until });
    const form = h("form", { "aria-labelledby": "grant-h" },
      h("div", { class: "row" }, h("div", {}, h("label", { for: "grant-bank" }, t("bank")), bank),
        h("div", {}, h("label", { for: "grant-purpose" }, t("purpose")), purpose),
        h("div", {}, h("label", { for: "grant-to" }, t("validTo")), validTo)),
      h("div", { class: "actions" }, h("button", { type: "submit" }, t("grant"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {
        bank: bank.value.trim(), purpose: purpose.value,
        valid_from: new Date().toISOString().slice(0, 19), valid_to: `${validTo.value}T00:00:00`,
      };
      try {
        await api(`${base}/consents`, { method: "POST", body, headers: { "Idempotency-Key": idempotencyKey() } });
        sessionStorage.setItem("credit.flash", t("granted"));
        render();
      } catch (err) {
        clear(msg, notice("error", errorText(err)));
      }
    });
    const flash = sessionStorage.getItem("credit.flash");
    sessionStorage.removeItem("credit.flash");
    return [
      flash ? notice("ok", flash) : null, msg,
      h("section", { class: "card" }, h("h2", {}, title), list),
      h("section", { class: "card" }, h("h2", { id: "grant-h" }, t("grantTitle")), form),
    ];
  })();
}

async function queriesSection(base, title) {
  const body = await api(`${base}/queries`);
  const rows = body.queries;
  const who = (q) => (q.accessor_role === "citizen" ? t("self") : `${t(`role.${q.accessor_role}`)} ${q.accessor_role === "bank" ? q.accessor_id : ""}`.trim());
  return h("section", { class: "card" }, h("h2", {}, title), rows.length
    ? h("div", { class: "table-wrap" }, h("table", { id: "queries" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("when")), h("th", { scope: "col" }, t("who")), h("th", { scope: "col" }, t("why")))),
        h("tbody", {}, rows.map((q) => h("tr", {}, h("td", {}, fmtDateTime(q.accessed_at)), h("td", {}, who(q)), h("td", {}, q.purpose))))))
    : h("p", { class: "muted" }, t("noQueries")));
}

// ---- enterprise ------------------------------------------------------------------------------

function orgPicker() {
  const orgs = me.orgs || [];
  if (!org || !orgs.includes(org)) org = orgs[0] || null;
  if (orgs.length < 2) return null;
  const sel = h("select", { id: "org", name: "org" }, orgs.map((c) => h("option", { value: c, selected: c === org }, c)));
  sel.addEventListener("change", () => { org = sel.value; render(); });
  return h("div", { class: "card" }, h("label", { for: "org" }, t("orgPick")), sel);
}

async function orgView() {
  const picker = orgPicker();
  const sc = await api(`/v1/orgs/${org}/score`);
  const head = sc.state === "scored"
    ? [h("p", { class: "center class-letter" }, t("classLabel", { c: sc.class })),
       h("p", { class: "center muted small" }, t("pd", { p: `${(sc.pd * 100).toFixed(1)}%` }))]
    : [h("p", { class: "center" }, h("strong", {}, tr(sc.message) || sc.state))];
  return [
    picker,
    h("section", { class: "card" }, h("h2", {}, t("classTitle")), h("p", { class: "mono small" }, org), head,
      sc.downgrades && sc.downgrades.length ? h("p", {}, t("downgrade"), " ", sc.downgrades.map(tr).join("、")) : null,
      h("p", { class: "muted small" }, t("scoreDate", { date: fmtDate(sc.as_of) }), " · ", t("model", { v: sc.model_version }))),
    reasonList(sc.reasons || []),
  ];
}

async function orgRecordsView() {
  const picker = orgPicker();
  const file = await api(`/v1/orgs/${org}/file`);
  return [picker, h("section", { class: "card" }, h("h2", {}, t("orgRecords")),
    h("ul", { class: "plain", id: "records" }, file.records.map((r) => recordItem(r, { actions: false }))))];
}

const VIEWS = {
  score: scoreView,
  benefits: benefitsView,
  records: recordsView,
  cases: casesView,
  consents: () => consentsSection("/v1/me", t("consents")),
  queries: () => queriesSection("/v1/me", t("queries")),
  org: orgView,
  orgRecords: orgRecordsView,
  orgConsents: async () => [orgPicker(), ...(await consentsSection(`/v1/orgs/${org}`, t("orgConsents")))],
  orgQueries: async () => [orgPicker(), await queriesSection(`/v1/orgs/${org}`, t("orgQueries"))],
};

// ---- start -----------------------------------------------------------------------------------

takeTokenFromUrl();
setLanguage(language());
const langSelect = document.getElementById("lang");
langSelect.value = language();
langSelect.addEventListener("change", () => { setLanguage(langSelect.value); render(); });
document.getElementById("signout").addEventListener("click", () => { signOut(); location.hash = ""; render(); });
window.addEventListener("hashchange", () => { takeTokenFromUrl(); render(); main().focus(); });
render();
