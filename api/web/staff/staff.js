// The staff pages: the supervisor's (enterprise classes, random inspection plans, coverage) and
// the model reviewer's (models, drift, review requests, decision replay), on the /v1 API.
import {
  ApiError, api, claims, clear, fmtDate, fmtDateTime, fmtNumber, h, language, lineChart, notice, s,
  setDictionary, setLanguage, signIn, signOut, stackedBars, svgFigure, t, takeTokenFromUrl, token, tr,
  waterfall, waterfallCompact,
} from "/web/api.js";

const TEXT = {
  zh: {
    title: "信用监管工作台", signout: "退出", sep: "；", paren: "（{x}）", stop: "。", tabsLabel: "工作台菜单", loading: "加载中…",
    signinTitle: "工作人员登录", signinIntro: "使用身份认证平台的登录链接进入。开发环境中，可粘贴 credit demo-credentials 打印的登录令牌。",
    tokenLabel: "登录令牌", signin: "登录", expired: "登录已失效，请重新登录。", badToken: "这个令牌无法识别，请检查后重试。",
    wrongRole: "本页面供监管人员和模型评审人员使用。个人和企业代表请前往", appLink: "我的信用",
    "role.supervisor": "监管人员", "role.reviewer": "模型评审", signedInAs: "{role} · {sub}",
    "tab.classes": "企业分类", "tab.plans": "双随机抽查", "tab.coverage": "评分覆盖率", "tab.warnings": "信用预警",
    "tab.models": "模型", "tab.drift": "人群漂移", "tab.reviews": "复核申请", "tab.decision": "决策回放",
    // supervisor: classes
    distTitle: "企业信用等级分布", distTotal: "共 {n} 家企业", bySector: "按行业", byDistrict: "按区县",
    chartSector: "各行业企业信用等级分布：堆叠条形图", chartDistrict: "各区县企业信用等级分布：堆叠条形图",
    asTable: "以表格查看", legend: "图例", "class.none": "未分类", classN: "{c} 类", total: "合计",
    sector: "行业", district: "区县", class: "信用等级", any: "全部",
    listTitle: "企业名单", filter: "查询", code: "统一社会信用代码", name: "名称", modelClass: "模型等级",
    pd: "违约概率", downgrades: "因名单调整", asOf: "评价日期", noRows: "没有符合条件的企业。",
    prev: "上一页", next: "下一页", pageOf: "第 {from}–{to} 条，共 {n} 条", listNote: "每次查询都会登记在企业的被查询记录中（事由：监管）。",
    // supervisor: plans
    planNew: "生成随机抽查计划", planIntro: "按企业信用等级抽取检查对象并随机匹配执法人员。使用公开的随机种子，任何人都可复算。",
    period: "检查期间", periodHint: "如 2026、2026-07、2026Q3 或 2026H2", seed: "随机种子（可选）", seedShown: "随机种子",
    seedHint: "公开发布的种子，8–128 个字符：字母、数字和 _ . : -；不填则随机生成", seedSource: "种子来源（可选）", seedSourceShown: "种子来源",
    generate: "生成并公布", generated: "计划 {no} 已生成并公布。", planOpen: "打开已有计划", planNo: "计划编号", open: "打开",
    planTitle: "抽查计划 {no}", algorithm: "算法", department: "检查部门", planDate: "计划日期", snapshot: "评分快照",
    published: "公布时间", selectionHash: "抽取结果 SHA-256", populationHash: "检查对象名录 SHA-256",
    countsTitle: "各等级抽取数量", population: "企业数", drawn: "抽取数", ratio: "抽取比例",
    verify: "用种子验证", verifying: "正在复算…", verifiedOk: "已验证：用种子和输入复算的结果与公布的计划一致。",
    verifiedBad: "验证失败：复算结果与公布的计划不一致。", problems: "不一致之处",
    download: "下载 CSV", downloaded: "已下载 {file}。", selectionTitle: "抽取的企业", position: "序号", inspectors: "执法人员",
    result: "检查结果", inspectedOn: "检查日期", resultTitle: "登记检查结果", org: "被检查企业", record: "登记结果",
    recorded: "已登记 {org} 的检查结果：{r}。", noPlan: "没有这个计划。",
    "result.compliant": "未发现问题", "result.issues_corrected": "发现问题已责令整改", "result.non_compliant": "发现违法违规",
    "result.not_found": "未发现经营", "result.none": "待检查",
    // supervisor: coverage
    covTitle: "成年居民评分覆盖率", covLabel: "各期评分覆盖率折线图（%）", covTarget: "目标 {p}", covLatest: "最新一期（{date}）：{scored} / {adults} 人有评分，{p}",
    meets: "达到目标", below: "未达目标", adults: "成年人数", scored: "有评分", share: "覆盖率", ageBand: "年龄段", snapshotDate: "快照日期",
    // supervisor: early warning
    warnTitle: "信用预警", warnIntro: "期间内等级下降或新增严重失信记录的企业。每次查询记入审计日志。", from: "开始日期", to: "结束日期（可选）",
    search: "查询", classDrop: "等级变化", pdChange: "违约概率变化", before: "之前", after: "之后", serious: "严重记录", noWarnings: "期间内没有需要预警的企业。",
    warnN: "{from} 至 {to}：{n} 家企业",
    // reviewer: models
    modelsTitle: "模型版本", group: "人群", "group.person": "个人", "group.enterprise": "企业",
    champion: "冠军模型", version: "版本", family: "算法", created: "训练时间", exported: "已导出", card: "模型卡",
    decisions: "晋级决定", show: "查看", yes: "是", no: "否", versionTitle: "{group}模型 第 {v} 版",
    metrics: "指标", metric: "指标", value: "数值", noMetrics: "没有记录指标。", fairness: "公平性", noFairness: "没有记录公平性检验。",
    passed: "通过", failed: "未通过", reasons: "原因", notes: "说明", byGroup: "分组结果", featuresN: "{n} 个特征",
    devDist: "开发样本分布", cardTitle: "模型卡", noCard: "这个版本没有模型卡。", outcome: "结果", actor: "决定人", when: "时间",
    // reviewer: drift
    driftTitle: "人群漂移（PSI）", driftLabel: "各人群 PSI 条形图，虚线为 0.1 和 0.25 阈值", psi: "PSI", band: "程度",
    reference: "参照", "reference.development": "开发样本", "reference.previous_snapshot": "上一期快照", liveN: "当前样本数", refN: "参照样本数",
    variable: "变量", "band.stable": "稳定", "band.moderate": "中等", "band.significant": "显著", noDrift: "暂无数据",
    driftNote: "PSI < 0.1 稳定，0.1–0.25 中等，> 0.25 显著。",
    // reviewer: reviews
    reviewsTitle: "待处理的复核申请", noReviews: "没有待处理的复核申请。", reviewN: "复核申请 #{id}", subject: "主体（化名）",
    requested: "申请时间", due: "办理期限", overdue: "已超期", reviewReason: "申请理由", scoreId: "评分编号",
    decideOutcome: "决定", "outcome.confirmed": "维持原分", "outcome.corrected": "更正（撤销错误记录并重新评分）",
    decisionReason: "书面理由", withdraw: "要撤销的记录编号（逗号分隔）", decide: "提交决定", decided: "复核申请 #{id} 已决定：{o}。",
    replayThis: "回放这次评分",
    // reviewer: decision
    decisionTitle: "决策回放", decisionIntro: "按评分编号查看一次评分的输入、模型版本、每个特征的贡献，以及按当时已知记录重算的结果。",
    lookup: "查看", decisionOf: "评分 #{id}", modelVersion: "模型版本", registryVersion: "特征注册表版本", featureHash: "特征哈希",
    knownAt: "记录截至", origin: "来源", cause: "原因", replay: "重算核对", replayOk: "重算一致：按当时记录和同一模型版本重算，结果与存储的评分相同。",
    replayBad: "重算不一致。", stored: "存储结果", replayed: "重算结果", score: "信用分", grade: "等级", hashMatches: "特征哈希一致",
    sameResult: "结果一致", contributions: "特征贡献", contribUnit: "单位：违约对数几率（正值提高违约概率）。",
    wfLabel: "特征贡献瀑布图：从基准值经 {n} 个非零贡献到合计", wfBase: "基准（bias）", wfTotal: "合计",
    wfUp: "提高违约概率（不利）", wfDown: "降低违约概率（有利）",
    zeroOmitted: "图中省略 {n} 个贡献为 0 的特征；下表列出全部 {all} 个。", feature: "特征", input: "输入值", contribution: "贡献",
    inputs: "输入（特征值）", inputsN: "全部 {n} 个存储的输入值", noContrib: "这次评分没有存储贡献。", error: "出错了：{m}",
  },
  en: {
    title: "Credit supervision desk", signout: "Sign out", sep: "; ", paren: " ({x})", stop: ".", tabsLabel: "Desk menu", loading: "Loading…",
    signinTitle: "Staff sign-in", signinIntro: "Sign in with the link from the identity platform. In development, paste a sign-in token printed by credit demo-credentials.",
    tokenLabel: "Sign-in token", signin: "Sign in", expired: "Your session has ended; please sign in again.", badToken: "This token is not recognised; check it and try again.",
    wrongRole: "These pages are for supervisors and model reviewers. Citizens and enterprise representatives go to", appLink: "My credit",
    "role.supervisor": "Supervisor", "role.reviewer": "Model reviewer", signedInAs: "{role} · {sub}",
    "tab.classes": "Enterprise classes", "tab.plans": "Random inspections", "tab.coverage": "Coverage", "tab.warnings": "Early warning",
    "tab.models": "Models", "tab.drift": "Drift", "tab.reviews": "Review requests", "tab.decision": "Decision replay",
    distTitle: "Enterprise credit classes", distTotal: "{n} organisations", bySector: "By sector", byDistrict: "By district",
    chartSector: "Enterprise classes by sector: stacked bar chart", chartDistrict: "Enterprise classes by district: stacked bar chart",
    asTable: "Show as a table", legend: "Legend", "class.none": "No class", classN: "Class {c}", total: "Total",
    sector: "Sector", district: "District", class: "Class", any: "All",
    listTitle: "Organisations", filter: "Search", code: "Credit code", name: "Name", modelClass: "Model class",
    pd: "PD", downgrades: "Capped by listing", asOf: "As of", noRows: "No organisation matches.",
    prev: "Previous", next: "Next", pageOf: "{from}–{to} of {n}", listNote: "Every search is written to the organisations' query registers (purpose: supervision).",
    planNew: "Draw a random inspection plan", planIntro: "Draws organisations by credit class and matches inspectors at random. With a published seed anyone can recompute it.",
    period: "Period", periodHint: "e.g. 2026, 2026-07, 2026Q3 or 2026H2", seed: "Seed (optional)", seedShown: "Seed",
    seedHint: "A published seed, 8–128 characters: letters, digits and _ . : -; random when empty", seedSource: "Seed source (optional)", seedSourceShown: "Seed source",
    generate: "Draw and publish", generated: "Plan {no} drawn and published.", planOpen: "Open a plan", planNo: "Plan number", open: "Open",
    planTitle: "Inspection plan {no}", algorithm: "Algorithm", department: "Department", planDate: "Plan date", snapshot: "Score snapshot",
    published: "Published", selectionHash: "Selection SHA-256", populationHash: "Population SHA-256",
    countsTitle: "Drawn per class", population: "Organisations", drawn: "Drawn", ratio: "Ratio",
    verify: "Verify from the seed", verifying: "Recomputing…", verifiedOk: "Verified: recomputing from the seed and inputs gives the published plan.",
    verifiedBad: "Verification failed: the recomputed plan differs from the published one.", problems: "Differences",
    download: "Download CSV", downloaded: "Downloaded {file}.", selectionTitle: "Drawn organisations", position: "No.", inspectors: "Inspectors",
    result: "Result", inspectedOn: "Inspected on", resultTitle: "Record an inspection result", org: "Organisation", record: "Record result",
    recorded: "Result recorded for {org}: {r}.", noPlan: "No such plan.",
    "result.compliant": "Compliant", "result.issues_corrected": "Issues corrected", "result.non_compliant": "Non-compliant",
    "result.not_found": "Not found at address", "result.none": "Pending",
    covTitle: "Adults with a score", covLabel: "Score coverage per snapshot, line chart (%)", covTarget: "Target {p}", covLatest: "Latest ({date}): {scored} of {adults} adults scored, {p}",
    meets: "meets the target", below: "below the target", adults: "Adults", scored: "Scored", share: "Share", ageBand: "Age band", snapshotDate: "Snapshot",
    warnTitle: "Early warning", warnIntro: "Organisations whose class fell or that collected serious records in the period. Every search is written to the audit log.", from: "From", to: "To (optional)",
    search: "Search", classDrop: "Class change", pdChange: "PD change", before: "before", after: "after", serious: "Serious records", noWarnings: "No organisation to warn about in the period.",
    warnN: "{from} to {to}: {n} organisations",
    modelsTitle: "Model versions", group: "Group", "group.person": "Person", "group.enterprise": "Enterprise",
    champion: "Champion", version: "Version", family: "Family", created: "Trained", exported: "Exported", card: "Model card",
    decisions: "Promotion decisions", show: "Show", yes: "yes", no: "no", versionTitle: "{group} model, version {v}",
    metrics: "Metrics", metric: "Metric", value: "Value", noMetrics: "No metrics recorded.", fairness: "Fairness", noFairness: "No fairness checks recorded.",
    passed: "passed", failed: "failed", reasons: "Reasons", notes: "Notes", byGroup: "By group", featuresN: "{n} features",
    devDist: "Development distribution", cardTitle: "Model card", noCard: "This version has no model card.", outcome: "Outcome", actor: "By", when: "When",
    driftTitle: "Population drift (PSI)", driftLabel: "PSI per group, bar chart; dashed lines at 0.1 and 0.25", psi: "PSI", band: "Band",
    reference: "Reference", "reference.development": "development sample", "reference.previous_snapshot": "previous snapshot", liveN: "Live n", refN: "Reference n",
    variable: "Variable", "band.stable": "stable", "band.moderate": "moderate", "band.significant": "significant", noDrift: "no data",
    driftNote: "PSI below 0.1 is stable, 0.1–0.25 moderate, above 0.25 significant.",
    reviewsTitle: "Open review requests", noReviews: "No open review requests.", reviewN: "Review request #{id}", subject: "Subject (pseudonym)",
    requested: "Requested", due: "Due", overdue: "overdue", reviewReason: "Reason given", scoreId: "Score id",
    decideOutcome: "Decision", "outcome.confirmed": "Confirm the score", "outcome.corrected": "Correct (withdraw wrong records and rescore)",
    decisionReason: "Written reason", withdraw: "Records to withdraw (uids, comma-separated)", decide: "Submit decision", decided: "Review request #{id} decided: {o}.",
    replayThis: "Replay this score",
    decisionTitle: "Decision replay", decisionIntro: "Look up a score by its id: its inputs, model version, every feature's contribution, and the score recomputed from the records as known then.",
    lookup: "Look up", decisionOf: "Score #{id}", modelVersion: "Model version", registryVersion: "Feature registry version", featureHash: "Feature hash",
    knownAt: "Records known at", origin: "Origin", cause: "Cause", replay: "Replay check", replayOk: "Replay matches: recomputed from the records as known then with the same model version, the result equals the stored score.",
    replayBad: "Replay does not match.", stored: "Stored", replayed: "Recomputed", score: "Score", grade: "Grade", hashMatches: "Feature hash matches",
    sameResult: "Same result", contributions: "Feature contributions", contribUnit: "Unit: log-odds of default (positive raises the PD).",
    wfLabel: "Waterfall of feature contributions: from the base value through {n} non-zero contributions to the total", wfBase: "base (bias)", wfTotal: "total",
    wfUp: "raises the PD (unfavourable)", wfDown: "lowers the PD (favourable)",
    zeroOmitted: "{n} features contributing 0 are left out of the chart; the table lists all {all}.", feature: "Feature", input: "Input", contribution: "Contribution",
    inputs: "Inputs (feature values)", inputsN: "All {n} stored input values", noContrib: "No contributions were stored with this score.", error: "Something went wrong: {m}",
  },
};
setDictionary(TEXT);

const CLASS_KEYS = ["A", "B", "C", "D", "none"];
const RESULTS = ["compliant", "issues_corrected", "non_compliant", "not_found"];
const TABS = {
  supervisor: ["classes", "plans", "coverage", "warnings"],
  reviewer: ["models", "drift", "reviews", "decision"],
};
const main = document.getElementById("main");
const state = { plan: null, listOffset: 0, filters: {}, decisionId: "" };

// ---- helpers --------------------------------------------------------------------------------

function card(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

function table(headers, rows, { caption, numeric = [] } = {}) {
  return h("div", { class: "table-wrap" },
    h("table", {},
      caption ? h("caption", { class: "sr" }, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((x, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : null }, x)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: numeric.includes(i) ? "num" : null }, c ?? "—")))))));
}

function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

function field(id, label, control, hint) {
  control.id = id;
  if (hint) control.setAttribute("aria-describedby", `${id}-hint`);
  return h("div", {}, h("label", { for: id }, label), control, hint ? h("p", { id: `${id}-hint`, class: "muted small" }, hint) : null);
}

function select(name, options, value) {
  return h("select", { name }, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

function className(k) {
  return k === "none" ? t("class.none") : t("classN", { c: k });
}

function legend() {
  return h("p", { class: "legend" }, h("span", { class: "sr" }, t("legend")),
    CLASS_KEYS.map((k) => h("span", {}, h("i", { class: `k-${k}`, "aria-hidden": "true" }), className(k))));
}

/** A phone-sized screen: charts are drawn narrower so that their text stays legible. */
function narrow() {
  return window.matchMedia("(max-width: 600px)").matches;
}

function pct(x, digits = 1) {
  return x === null || x === undefined ? "—" : `${fmtNumber(x * 100, digits)}%`;
}

function num(x, digits = 4) {
  if (x === null || x === undefined) return "—";
  return typeof x === "number" ? String(Math.round(x * 10 ** digits) / 10 ** digits) : String(x);
}

function loading() {
  return h("p", { class: "muted", role: "status" }, t("loading"));
}

/** An error as a notice; an expired or refused sign-in sends back to the sign-in form. */
function failure(e) {
  if (e instanceof ApiError && e.status === 401) {
    signOut();
    render(t("expired"));
    return notice("error", t("expired"));
  }
  return notice("error", t("error", { m: e.message || String(e) }));
}

/** Fill ``box`` from an async builder, with a loading line meanwhile and errors shown. */
async function fill(box, build) {
  clear(box, loading());
  try {
    clear(box, await build());
  } catch (e) {
    clear(box, failure(e));
  }
  return box;
}

// ---- shell: sign-in, role, tabs ---------------------------------------------------------------

function signInForm(message) {
  const input = h("input", { type: "password", name: "token", autocomplete: "off", required: true, spellcheck: "false" });
  const form = h("form", {
    onsubmit: (ev) => {
      ev.preventDefault();
      signIn(input.value);
      if (!claims()) {
        signOut();
        render(t("badToken"));
        return;
      }
      render();
    },
  }, field("token-input", t("tokenLabel"), input), h("div", { class: "actions" }, h("button", { type: "submit" }, t("signin"))));
  return card(t("signinTitle"), message ? notice("error", message) : null, h("p", { class: "muted" }, t("signinIntro")), form);
}

function currentTab(role) {
  const tabs = TABS[role];
  const want = location.hash.replace(/^#\/?/, "").split("/")[0];
  return tabs.includes(want) ? want : tabs[0];
}

function render(message) {
  document.title = `${t("title")} · Staff`;
  document.getElementById("title").textContent = t("title");
  document.getElementById("lang").value = language();
  const out = document.getElementById("signout");
  out.textContent = t("signout");
  const nav = document.getElementById("tabs");
  nav.setAttribute("aria-label", t("tabsLabel"));
  const who = document.getElementById("who");
  const c = claims();
  if (!token() || !c) {
    if (token()) signOut();
    out.hidden = true;
    nav.hidden = true;
    who.textContent = "";
    clear(main, signInForm(message || (token() ? t("expired") : "")));
    return;
  }
  out.hidden = false;
  who.textContent = t("signedInAs", { role: t(`role.${c.role}`), sub: c.sub || "" });
  if (!TABS[c.role]) {
    nav.hidden = true;
    clear(main, card(t("title"), h("p", {}, `${t("wrongRole")} `, h("a", { href: "/app/" }, t("appLink")), t("stop"))));
    return;
  }
  const tab = currentTab(c.role);
  nav.hidden = false;
  clear(nav, TABS[c.role].map((k) =>
    h("a", { href: `#${k}`, "aria-current": k === tab ? "page" : null }, t(`tab.${k}`))));
  const views = { classes, plans, coverage, warnings, models, drift, reviews, decision };
  clear(main, views[tab]());
}

// ---- supervisor: enterprise classes -----------------------------------------------------------

let distribution = null;

async function loadDistribution() {
  distribution = await api("/v1/supervisor/enterprises/distribution");
  return distribution;
}

// Sector codes of the record catalogue (org_registration.sector) and their names.
const SECTORS = {
  zh: {"manufacturing": "制造业", "construction": "建筑业", "retail": "零售业", "catering": "餐饮业", "transport": "交通运输业", "food": "食品业", "pharma": "医药业", "chemicals": "化工业", "services": "服务业", "technology": "科技业", "agriculture": "农业", "public": "公共机构"},
  en: {"manufacturing": "Manufacturing", "construction": "Construction", "retail": "Retail", "catering": "Catering", "transport": "Transport", "food": "Food", "pharma": "Pharmaceuticals", "chemicals": "Chemicals", "services": "Services", "technology": "Technology", "agriculture": "Agriculture", "public": "Public bodies"},
};
/** A sector's name in the current language (the code for one the page does not know). */
const sectorName = (code) => (SECTORS[language()] && SECTORS[language()][code]) || code;

function classChart(groups, label, dimension, name = (key) => key) {
  const rows = Object.entries(groups).map(([key, parts]) => ({ label: name(key), parts }));
  const tableRows = Object.entries(groups).map(([key, parts]) => [
    name(key), ...CLASS_KEYS.map((k) => fmtNumber(parts[k] || 0)), fmtNumber(CLASS_KEYS.reduce((a, k) => a + (parts[k] || 0), 0)),
  ]);
  return h("div", { class: "chart-block" },
    h("div", { class: "chart-wrap" }, stackedBars(rows, CLASS_KEYS, { label, width: narrow() ? 360 : 560 })),
    h("details", {}, h("summary", {}, t("asTable")),
      table([dimension, ...CLASS_KEYS.map(className), t("total")], tableRows,
        { caption: label, numeric: [1, 2, 3, 4, 5, 6] })));
}

function classes() {
  const dist = h("div", {}, loading());
  const list = h("div", {});
  fill(dist, async () => {
    const d = await loadDistribution();
    return [
      h("p", {}, t("distTotal", { n: fmtNumber(d.total) }), " · ",
        CLASS_KEYS.filter((k) => d.by_class[k]).map((k) => `${className(k)} ${fmtNumber(d.by_class[k])}${t("paren", { x: pct(d.shares[k]) })}`).join(t("sep"))),
      legend(),
      h("h3", {}, t("bySector")),
      classChart(d.by_sector, t("chartSector"), t("sector"), sectorName),
      h("h3", {}, t("byDistrict")),
      classChart(d.by_district, t("chartDistrict"), t("district")),
    ];
  }).then(() => clear(list, listFilters()));
  return [card(t("distTitle"), dist), card(t("listTitle"), h("p", { class: "muted small" }, t("listNote")), list)];
}

function listFilters() {
  const d = distribution || { by_sector: {}, by_district: {} };
  const f = state.filters;
  const sector = select("sector", [["", t("any")], ...Object.keys(d.by_sector).map((k) => [k, sectorName(k)])], f.sector || "");
  const district = select("district", [["", t("any")], ...Object.keys(d.by_district).map((k) => [k, k])], f.district || "");
  const grade = select("class", [["", t("any")], ...["A", "B", "C", "D"].map((k) => [k, className(k)])], f.class || "");
  const results = h("div", { id: "enterprise-list" });
  const search = () => {
    state.filters = { sector: sector.value, district: district.value, class: grade.value };
    fill(results, () => enterpriseList(results));
  };
  const form = h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); state.listOffset = 0; search(); } },
    field("f-sector", t("sector"), sector), field("f-district", t("district"), district), field("f-class", t("class"), grade),
    h("button", { type: "submit" }, t("filter")));
  search();
  return [form, results];
}

async function enterpriseList(box) {
  const q = new URLSearchParams({ limit: "20", offset: String(state.listOffset) });
  for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
  const page = await api(`/v1/supervisor/enterprises?${q}`);
  if (!page.items.length) return notice("info", t("noRows"));
  const go = (delta) => {
    state.listOffset = Math.max(0, state.listOffset + delta);
    fill(box, () => enterpriseList(box));
  };
  return [
    table([t("code"), t("name"), t("sector"), t("district"), t("class"), t("modelClass"), t("pd"), t("downgrades"), t("asOf")],
      page.items.map((e) => [
        h("span", { class: "mono" }, e.code), e.name, sectorName(e.sector), e.district_code,
        e.class ? h("strong", {}, e.class) : t("class.none"), e.model_class, e.pd == null ? "—" : pct(e.pd, 2),
        e.downgrades.map(tr).join(t("sep")) || "—", fmtDate(e.as_of),
      ]), { caption: t("listTitle") }),
    h("div", { class: "pager" },
      h("span", { class: "muted small" }, t("pageOf", { from: page.offset + 1, to: page.offset + page.items.length, n: page.total })),
      h("button", { type: "button", class: "secondary", disabled: page.offset === 0, onclick: () => go(-page.limit) }, t("prev")),
      h("button", { type: "button", class: "secondary", disabled: page.offset + page.items.length >= page.total, onclick: () => go(page.limit) }, t("next"))),
  ];
}

// ---- supervisor: inspection plans ------------------------------------------------------------

function plans() {
  const view = h("div", { id: "plan-view" });
  const status = h("div", { "aria-live": "polite" });
  const sectors = distribution ? Object.keys(distribution.by_sector) : [];
  const sector = sectors.length ? select("sector", sectors.map((k) => [k, sectorName(k)]), sectors[0])
    : h("input", { name: "sector", required: true, pattern: "[a-z0-9_]+", value: "retail" });
  if (!distribution) loadDistribution().then((d) => {
    const keys = Object.keys(d.by_sector);
    if (keys.length && sector.tagName === "INPUT") {
      const sel = select("sector", keys.map((k) => [k, sectorName(k)]), keys.includes(sector.value) ? sector.value : keys[0]);
      sel.id = sector.id;
      sector.replaceWith(sel);
    }
  }).catch(() => {});
  const period = h("input", { name: "period", required: true, pattern: "[0-9]{4}(-[0-9]{2}|Q[1-4]|H[12])?", value: defaultPeriod() });
  const seed = h("input", { name: "seed", pattern: "[A-Za-z0-9_.:\\-]{8,128}", autocomplete: "off" });
  const source = h("input", { name: "seed_source", maxlength: "200" });
  const form = h("form", {
    onsubmit: async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      const body = { sector: document.getElementById("p-sector").value, period: period.value.trim() };
      if (seed.value.trim()) body.seed = seed.value.trim();
      if (source.value.trim()) body.seed_source = source.value.trim();
      try {
        const header = await api("/v1/supervisor/plans", { method: "POST", body });
        clear(status, notice("ok", t("generated", { no: header.plan_no })));
        await showPlan(view, header.plan_no);
      } catch (e) {
        clear(status, failure(e));
      } finally {
        button.disabled = false;
      }
    },
  },
  h("div", { class: "row top" }, field("p-sector", t("sector"), sector), field("p-period", t("period"), period, t("periodHint"))),
  h("div", { class: "row top" }, field("p-seed", t("seed"), seed, t("seedHint")), field("p-source", t("seedSource"), source)),
  h("div", { class: "actions" }, h("button", { type: "submit" }, t("generate"))));
  const no = h("input", { name: "plan_no", required: true, pattern: "[A-Za-z0-9_.\\-]{1,64}", autocomplete: "off" });
  const opener = h("form", {
    class: "row",
    onsubmit: (ev) => { ev.preventDefault(); showPlan(view, no.value.trim()); },
  }, field("p-no", t("planNo"), no), h("button", { type: "submit", class: "secondary" }, t("open")));
  if (state.plan) showPlan(view, state.plan);
  return [
    h("div", { class: "grid2" },
      card(t("planNew"), h("p", { class: "muted small" }, t("planIntro")), form, status),
      card(t("planOpen"), opener)),
    view,
  ];
}

function defaultPeriod() {
  const d = new Date();
  return `${d.getFullYear()}Q${Math.floor(d.getMonth() / 3) + 1}`;
}

async function showPlan(view, planNo) {
  state.plan = planNo;
  return fill(view, async () => {
    let plan;
    try {
      plan = await api(`/v1/supervisor/plans/${encodeURIComponent(planNo)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return notice("error", t("noPlan"));
      throw e;
    }
    return planCard(view, plan);
  });
}

function planCard(view, plan) {
  const verdict = h("div", { "aria-live": "polite", id: "verify-result" });
  const downloadStatus = h("div", { "aria-live": "polite" });
  const verify = async (ev) => {
    const button = ev.currentTarget;
    button.disabled = true;
    clear(verdict, h("p", { class: "muted" }, t("verifying")));
    try {
      const v = await api(`/v1/supervisor/plans/${encodeURIComponent(plan.plan_no)}/verify`);
      clear(verdict, v.ok
        ? h("div", { class: "notice ok big-ok", role: "status", "data-verified": "true" }, h("p", { class: "verdict" }, `✓ ${t("verifiedOk")}`))
        : h("div", { class: "notice error big-bad", role: "alert", "data-verified": "false" },
          h("p", { class: "verdict" }, `✗ ${t("verifiedBad")}`), h("p", {}, t("problems")), h("ul", {}, v.problems.map((p) => h("li", {}, p)))));
    } catch (e) {
      clear(verdict, failure(e));
    } finally {
      button.disabled = false;
    }
  };
  const download = async (ev) => {
    const button = ev.currentTarget;
    button.disabled = true;
    try {
      const r = await api(`/v1/supervisor/plans/${encodeURIComponent(plan.plan_no)}/export`, { raw: true, headers: { Accept: "text/csv" } });
      const blob = await r.blob();
      const file = `${plan.plan_no}.csv`;
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: file, class: "sr" }, file);
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      clear(downloadStatus, notice("ok", t("downloaded", { file })));
    } catch (e) {
      clear(downloadStatus, failure(e));
    } finally {
      button.disabled = false;
    }
  };
  const counts = Object.entries(plan.counts).map(([k, [pop, drawn]]) =>
    [className(k), fmtNumber(pop), fmtNumber(drawn), plan.ratios[k] == null ? "—" : pct(Number(plan.ratios[k]), 1)]);
  const selection = plan.selection.map((d) => [
    d.position, h("span", { class: "mono" }, d.code), d.name, d.class,
    d.inspectors.map((i) => `${i.code} ${i.name ?? ""}`.trim()).join(t("sep")),
    d.result ? t(`result.${d.result}`) : h("span", { class: "muted" }, t("result.none")), fmtDate(d.inspected_on),
  ]);
  return h("section", { class: "card", id: "plan", "data-plan-no": plan.plan_no },
    h("h2", {}, t("planTitle", { no: plan.plan_no })),
    kv([
      [t("seedShown"), h("span", { class: "mono", id: "plan-seed" }, plan.seed)], [t("seedSourceShown"), plan.seed_source],
      [t("algorithm"), plan.algorithm], [t("sector"), plan.sector], [t("period"), plan.period], [t("department"), plan.department],
      [t("planDate"), fmtDate(plan.plan_date)], [t("snapshot"), `#${plan.snapshot_id}`], [t("published"), fmtDateTime(plan.published_at)],
      [t("selectionHash"), h("span", { class: "mono", id: "plan-hash" }, plan.selection_sha256)],
      [t("populationHash"), h("span", { class: "mono" }, plan.population_sha256)],
    ]),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "verify", onclick: verify }, t("verify")),
      h("button", { type: "button", class: "secondary", id: "download", onclick: download }, t("download"))),
    verdict, downloadStatus,
    h("h3", {}, t("countsTitle")),
    table([t("class"), t("population"), t("drawn"), t("ratio")], counts, { caption: t("countsTitle"), numeric: [1, 2, 3] }),
    h("h3", {}, t("selectionTitle")),
    table([t("position"), t("code"), t("name"), t("class"), t("inspectors"), t("result"), t("inspectedOn")], selection,
      { caption: t("selectionTitle"), numeric: [0] }),
    plan.selection.length ? resultForm(view, plan) : null);
}

function resultForm(view, plan) {
  const org = select("org_code", plan.selection.map((d) => [d.code, `${d.position}. ${d.name ?? d.code}${t("paren", { x: d.class })}`]),
    (plan.selection.find((d) => !d.result) || plan.selection[0]).code);
  const result = select("result", RESULTS.map((r) => [r, t(`result.${r}`)]), "compliant");
  const day = h("input", { type: "date", name: "inspected_on", required: true, value: new Date().toISOString().slice(0, 10) });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", {
    class: "panel",
    onsubmit: async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const r = await api(`/v1/supervisor/plans/${encodeURIComponent(plan.plan_no)}/results`, {
          method: "POST", body: { org_code: org.value, result: result.value, inspected_on: day.value },
        });
        await showPlan(view, plan.plan_no);
        const box = document.getElementById("result-status");
        if (box) clear(box, notice("ok", t("recorded", { org: r.org_code, r: t(`result.${r.result}`) })));
      } catch (e) {
        clear(status, failure(e));
        button.disabled = false;
      }
    },
  },
  h("h3", {}, t("resultTitle")),
  field("r-org", t("org"), org),
  h("div", { class: "row top" }, field("r-result", t("result"), result), field("r-date", t("inspectedOn"), day)),
  h("div", { class: "actions" }, h("button", { type: "submit" }, t("record"))));
  status.id = "result-status";
  return [form, status];
}

// ---- supervisor: coverage --------------------------------------------------------------------

function coverage() {
  const box = h("div", {});
  fill(box, async () => {
    const c = await api("/v1/supervisor/coverage?trend=true");
    if (!c.snapshots.length) return notice("info", t("noDrift"));
    const last = c.snapshots[c.snapshots.length - 1];
    const points = c.snapshots.map((x) => ({ x: fmtDate(x.as_of), y: Math.round(x.share * 1000) / 10 }));
    return [
      h("p", {}, t("covLatest", { date: fmtDate(last.as_of), scored: fmtNumber(last.scored), adults: fmtNumber(last.adults), p: pct(last.share) }),
        " ", h("span", { class: `badge ${last.meets_target ? "good" : "warn"}` }, last.meets_target ? t("meets") : t("below")),
        c.target != null ? h("span", { class: "muted" }, ` · ${t("covTarget", { p: pct(c.target, 0) })}`) : null),
      h("div", { class: "chart-wrap room" }, lineChart(points, { label: t("covLabel"), yMin: 0, yMax: 100, width: narrow() ? 360 : 560 })),
      h("details", {}, h("summary", {}, t("asTable")),
        table([t("snapshotDate"), t("adults"), t("scored"), t("share")],
          c.snapshots.map((x) => [fmtDate(x.as_of), fmtNumber(x.adults), fmtNumber(x.scored), pct(x.share)]),
          { caption: t("covLabel"), numeric: [1, 2, 3] })),
      h("h3", {}, t("district")),
      table([t("district"), t("adults"), t("scored"), t("share")],
        last.by_district.map((x) => [x.district, fmtNumber(x.adults), fmtNumber(x.scored), pct(x.share)]), { caption: t("district"), numeric: [1, 2, 3] }),
      h("h3", {}, t("ageBand")),
      table([t("ageBand"), t("adults"), t("scored"), t("share")],
        last.by_age_band.map((x) => [x.age_band, fmtNumber(x.adults), fmtNumber(x.scored), pct(x.share)]), { caption: t("ageBand"), numeric: [1, 2, 3] }),
    ];
  });
  return card(t("covTitle"), box);
}

// ---- supervisor: early warning --------------------------------------------------------------

function warnings() {
  const box = h("div", { id: "warnings" });
  const today = new Date();
  const start = new Date(today.getFullYear(), today.getMonth() - 6, 1);
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  const from = h("input", { type: "date", name: "from", required: true, value: iso(start) });
  const to = h("input", { type: "date", name: "to" });
  const search = () => fill(box, async () => {
    const q = new URLSearchParams({ from: from.value });
    if (to.value) q.set("to", to.value);
    const w = await api(`/v1/supervisor/warnings?${q}`);
    const head = h("p", { class: "muted small" }, t("warnN", { from: fmtDate(w.from), to: fmtDate(w.to), n: w.organisations.length }));
    if (!w.organisations.length) return [head, notice("info", t("noWarnings"))];
    return [head, table([t("code"), t("name"), t("sector"), t("district"), t("classDrop"), t("pdChange"), t("serious"), t("reasons")],
      w.organisations.map((o) => [
        h("span", { class: "mono" }, o.code), o.name, o.sector, o.district,
        `${o.class_before ?? "—"} → ${o.class_after ?? "—"}`,
        `${o.pd_before == null ? "—" : pct(o.pd_before, 2)} → ${o.pd_after == null ? "—" : pct(o.pd_after, 2)}`,
        fmtNumber(Array.isArray(o.serious_records) ? o.serious_records.length : o.serious_records),
        (language() === "en" ? o.reasons_en : o.reasons_zh).join(t("sep")),
      ]), { caption: t("warnTitle") })];
  });
  const form = h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); search(); } },
    field("w-from", t("from"), from), field("w-to", t("to"), to), h("button", { type: "submit" }, t("search")));
  search();
  return card(t("warnTitle"), h("p", { class: "muted small" }, t("warnIntro")), form, box);
}

// ---- reviewer: models ------------------------------------------------------------------------

function models() {
  const list = h("div", {});
  const detail = h("div", { id: "version-view" });
  fill(list, async () => {
    const m = await api("/v1/reviewer/models");
    return Object.entries(m).map(([group, g]) => h("div", {},
      h("h3", {}, `${t(`group.${group}`)} · ${g.registered_model} · ${t("champion")} v${g.champion ?? "—"}`),
      table([t("version"), t("family"), t("created"), t("champion"), t("exported"), t("card"), t("decisions"), ""],
        g.versions.map((v) => [
          v.version, v.family, fmtDateTime(v.created_at), v.champion ? h("span", { class: "badge good" }, t("champion")) : "—",
          v.exported ? t("yes") : t("no"), v.card ? t("yes") : t("no"),
          v.decisions.map((d) => `${d.outcome} ${fmtDate(d.decided_at)}`).join(t("sep")) || "—",
          h("button", { type: "button", class: "secondary", onclick: () => showVersion(detail, group, v.version) },
            h("span", {}, t("show")), h("span", { class: "sr" }, ` ${t(`group.${group}`)} v${v.version}`)),
        ]), { caption: `${t(`group.${group}`)} ${t("modelsTitle")}` })));
  });
  return [card(t("modelsTitle"), list), detail];
}

function showVersion(box, group, version) {
  return fill(box, async () => {
    const d = await api(`/v1/reviewer/models/${group}/${encodeURIComponent(version)}`);
    const cardBox = h("div", {});
    fill(cardBox, () => modelCard(group, version));
    const sec = card(t("versionTitle", { group: t(`group.${group}`), v: d.version }),
      kv([[t("family"), d.family], [t("created"), fmtDateTime(d.created_at)], [t("registryVersion"), d.feature_registry_version],
        [t("exported"), d.exported ? t("yes") : t("no")], [t("feature"), d.features ? t("featuresN", { n: d.features.length }) : "—"]]),
      h("h3", {}, t("metrics")),
      d.metrics ? table([t("metric"), t("value")], Object.entries(d.metrics).map(([k, v]) => [k, num(v)]), { caption: t("metrics"), numeric: [1] })
        : h("p", { class: "muted" }, t("noMetrics")),
      h("h3", {}, t("fairness")),
      fairness(d.fairness),
      d.development_distribution ? devDistribution(d.development_distribution) : null,
      d.decisions.length ? [h("h3", {}, t("decisions")), table([t("outcome"), t("actor"), t("reasons"), t("when")],
        d.decisions.map((x) => [x.outcome, x.actor, x.reason, fmtDateTime(x.decided_at)]), { caption: t("decisions") })] : null,
      h("h3", {}, t("cardTitle")), cardBox);
    sec.id = "version";
    return sec;
  }).then(() => box.querySelector("h2")?.scrollIntoView({ block: "start" }));
}

function fairness(f) {
  if (!f || !Object.keys(f).length) return h("p", { class: "muted" }, t("noFairness"));
  return Object.entries(f).map(([attr, g]) => h("div", {},
    h("p", {}, h("strong", {}, attr), " ", h("span", { class: `badge ${g.passed ? "good" : "bad"}` }, g.passed ? t("passed") : t("failed"))),
    g.reasons && g.reasons.length ? h("ul", {}, g.reasons.map((r) => h("li", {}, String(r)))) : null,
    g.notes && g.notes.length ? h("ul", { class: "muted small" }, g.notes.map((r) => h("li", {}, String(r)))) : null,
    g.by_group && g.by_group.length ? genericTable(g.by_group, `${t("fairness")} · ${attr}`) : null));
}

/** A table of a list of flat objects (columns: the union of their keys). */
function genericTable(rows, caption) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return table(cols, rows.map((r) => cols.map((c) => (typeof r[c] === "object" && r[c] !== null ? JSON.stringify(r[c]) : num(r[c])))), { caption });
}

function devDistribution(dist) {
  return [h("h3", {}, t("devDist")), ...Object.entries(dist).map(([variable, d]) => {
    const edges = d.edges || [];
    const rows = (d.shares || []).map((share, i) => {
      const lo = i === 0 ? "−∞" : num(edges[i - 1], 3);
      const hi = i < edges.length ? num(edges[i], 3) : "+∞";
      return [`${lo} – ${hi}`, pct(share)];
    });
    return h("details", {}, h("summary", {}, `${variable} (n = ${fmtNumber(d.n)})`),
      table([variable, t("share")], rows, { caption: `${t("devDist")} ${variable}`, numeric: [1] }));
  })];
}

/** The model card: Markdown rendered by a tiny renderer into text nodes (never HTML). */
async function modelCard(group, version) {
  let text;
  try {
    const r = await api(`/v1/reviewer/models/${group}/${encodeURIComponent(version)}/card`, { raw: true, headers: { Accept: "text/markdown" } });
    text = await r.text();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return h("p", { class: "muted" }, t("noCard"));
    throw e;
  }
  return h("div", { class: "card-text", id: "model-card" }, markdown(text));
}

function inline(text) {
  // `code` and **bold**, everything else as text.
  const out = [];
  const re = /(`[^`]+`|\*\*[^*]+\*\*)/g;
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    const tok = m[0];
    out.push(tok.startsWith("`") ? h("code", {}, tok.slice(1, -1)) : h("strong", {}, tok.slice(2, -2)));
    at = m.index + tok.length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

function markdown(src) {
  const out = [];
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  let para = [];
  let list = null;
  const flush = () => {
    if (para.length) out.push(h("p", {}, inline(para.join(" "))));
    para = [];
    if (list) out.push(list);
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("```")) {
      flush();
      const code = [];
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
      out.push(h("pre", {}, code.join("\n")));
      continue;
    }
    if (line.trim().startsWith("|")) {
      flush();
      const rows = [];
      for (; i < lines.length && lines[i].trim().startsWith("|"); i++) rows.push(lines[i]);
      i--;
      const cells = rows.filter((r) => !/^\s*\|[\s:|-]+\|\s*$/.test(r)).map((r) => r.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim()));
      if (cells.length) out.push(table(cells[0], cells.slice(1)));
      continue;
    }
    const head = line.match(/^(#{1,6})\s+(.*)$/);
    if (head) {
      flush();
      out.push(h(head[1].length <= 2 ? "h4" : "h5", {}, inline(head[2])));  // under the page's h3
      continue;
    }
    const item = line.match(/^\s*(?:[-*]|\d+\.)\s+(.*)$/);
    if (item) {
      if (para.length) { out.push(h("p", {}, inline(para.join(" ")))); para = []; }
      list = list || h("ul", {});
      list.append(h("li", {}, inline(item[1])));
      continue;
    }
    if (!line.trim()) { flush(); continue; }
    if (list) { out.push(list); list = null; }
    para.push(line.trim());
  }
  flush();
  return out;
}

// ---- reviewer: drift -------------------------------------------------------------------------

function psiChart(rows) {
  const width = narrow() ? 360 : 480, rowH = 34, pad = { l: 90, r: 60, t: 8 };
  const max = Math.max(0.3, ...rows.map((r) => r.psi || 0));
  const W = width - pad.l - pad.r;
  const x = (v) => pad.l + (Math.min(v, max) * W) / max;
  const height = pad.t + rows.length * rowH + 8;
  const bars = rows.map((r, i) => {
    const y = pad.t + i * rowH;
    return s("g", {},
      s("text", { x: pad.l - 8, y: y + rowH / 2 + 4, class: "axis", "text-anchor": "end" }, r.label),
      r.psi == null ? null : s("rect", { x: pad.l, y: y + 6, width: Math.max(x(r.psi) - pad.l, 1), height: rowH - 14, class: `psi-${r.band}` },
        s("title", {}, `${r.label}: PSI ${num(r.psi, 3)}`)),
      s("text", { x: (r.psi == null ? pad.l : x(r.psi)) + 6, y: y + rowH / 2 + 4, class: "axis" }, r.psi == null ? t("noDrift") : num(r.psi, 3)));
  });
  const limits = [0.1, 0.25].map((v) => s("line", { x1: x(v), x2: x(v), y1: pad.t, y2: height - 4, class: "limit" }));
  return svgFigure(width, height, t("driftLabel"), limits, bars);
}

function drift() {
  const box = h("div", {});
  fill(box, async () => {
    const d = await api("/v1/reviewer/drift");
    const rows = Object.entries(d).map(([group, g]) => ({ ...g, label: t(`group.${group}`), groupKey: group }));
    return [
      h("div", { class: "chart-wrap" }, psiChart(rows)),
      h("p", { class: "muted small" }, t("driftNote")),
      table([t("group"), t("variable"), t("psi"), t("band"), t("reference"), t("liveN"), t("refN"), t("snapshot"), t("champion")],
        rows.map((r) => [r.label, r.variable, num(r.psi, 4),
          r.band ? h("span", { class: `badge ${r.band === "stable" ? "good" : r.band === "moderate" ? "warn" : "bad"}` }, t(`band.${r.band}`)) : (r.status || "—"),
          r.reference ? t(`reference.${r.reference}`) : "—", fmtNumber(r.live_n), fmtNumber(r.reference_n),
          r.snapshot_id ? `#${r.snapshot_id}` : "—", r.champion ? `v${r.champion}` : "—"]),
        { caption: t("driftTitle"), numeric: [2, 5, 6] }),
    ];
  });
  return card(t("driftTitle"), box);
}

// ---- reviewer: review requests ---------------------------------------------------------------

function reviews() {
  const box = h("div", { id: "review-queue" });
  const status = h("div", { "aria-live": "polite", id: "review-status" });
  const load = () => fill(box, async () => {
    const queue = await api("/v1/reviewer/reviews");
    if (!queue.length) return notice("info", t("noReviews"));
    return h("ul", { class: "plain" }, queue.map((r) => reviewItem(r, async (o) => {
      clear(status, notice("ok", t("decided", { id: r.id, o: t(`outcome.${o}`) })));
      await load();
    })));
  });
  load();
  return card(t("reviewsTitle"), status, box);
}

function reviewItem(r, done) {
  const id = `rv-${r.id}`;
  const outcome = select("outcome", ["confirmed", "corrected"].map((o) => [o, t(`outcome.${o}`)]), "confirmed");
  const reason = h("textarea", { name: "reason", required: true, maxlength: "2000" });
  const withdraw = h("input", { name: "withdraw_records", autocomplete: "off" });
  const withdrawField = field(`${id}-withdraw`, t("withdraw"), withdraw);
  withdrawField.hidden = true;
  outcome.addEventListener("change", () => { withdrawField.hidden = outcome.value !== "corrected"; });
  const err = h("div", { "aria-live": "polite" });
  const form = h("form", {
    class: "panel",
    onsubmit: async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      const body = { outcome: outcome.value, reason: reason.value.trim() };
      if (outcome.value === "corrected") body.withdraw_records = withdraw.value.split(/[,，\s]+/).filter(Boolean);
      try {
        await api(`/v1/reviewer/reviews/${r.id}/decision`, { method: "POST", body });
        await done(outcome.value);
      } catch (e) {
        clear(err, failure(e));
        button.disabled = false;
      }
    },
  },
  field(`${id}-outcome`, t("decideOutcome"), outcome),
  field(`${id}-reason`, t("decisionReason"), reason),
  withdrawField,
  h("div", { class: "actions" },
    h("button", { type: "submit" }, t("decide")),
    h("button", { type: "button", class: "secondary", onclick: () => { state.decisionId = String(r.score_id); location.hash = "#decision"; } }, t("replayThis"))),
  err);
  return h("li", { class: "review", "data-review-id": r.id },
    h("div", { class: "head" }, h("h3", {}, t("reviewN", { id: r.id })),
      r.overdue ? h("span", { class: "badge bad" }, t("overdue")) : null),
    kv([[t("subject"), h("span", { class: "mono" }, r.subject_key)], [t("scoreId"), String(r.score_id)],
      [t("requested"), fmtDateTime(r.requested_at)], [t("due"), fmtDate(r.due)], [t("reviewReason"), r.reason],
      [t("score"), r.score_before == null ? "—" : String(r.score_before)]]),
    form);
}

// ---- reviewer: decision replay ----------------------------------------------------------------

function decision() {
  const view = h("div", { id: "decision-view" });
  const input = h("input", { name: "score_id", required: true, inputmode: "numeric", pattern: "[0-9]+", autocomplete: "off", value: state.decisionId });
  const form = h("form", {
    class: "row",
    onsubmit: (ev) => { ev.preventDefault(); state.decisionId = input.value.trim(); showDecision(view, state.decisionId); },
  }, field("d-score", t("scoreId"), input), h("button", { type: "submit" }, t("lookup")));
  if (state.decisionId) showDecision(view, state.decisionId);
  return [card(t("decisionTitle"), h("p", { class: "muted small" }, t("decisionIntro")), form), view];
}

function showDecision(view, scoreId) {
  return fill(view, async () => {
    const d = await api(`/v1/reviewer/decisions/${encodeURIComponent(scoreId)}`);
    return decisionCards(d);
  });
}

function outcomeText(x, stored) {
  if (!x) return "—";
  const parts = [];
  if (x.score != null) parts.push(`${t("score")} ${x.score}`);
  const tier = x.tier ?? (stored?.tier && stored.tier.code === x.grade ? stored.tier : null);
  const grade = x.class ?? (tier ? tr(tier) : x.grade);
  if (grade) parts.push(`${t("grade")} ${grade}`);
  if (x.pd != null) parts.push(`${t("pd")} ${num(x.pd, 6)}`);
  if (x.state && x.state !== "scored") parts.push(x.state);
  return parts.join(" · ") || "—";
}

function decisionCards(d) {
  const rp = d.replay || {};
  const replayBox = h("div", { class: `notice ${rp.ok ? "ok big-ok" : "error big-bad"}`, role: "status", id: "replay", "data-ok": String(!!rp.ok) },
    h("p", { class: "verdict" }, rp.ok ? `✓ ${t("replayOk")}` : `✗ ${t("replayBad")}${rp.error ? ` ${rp.error}` : ""}`),
    kv([[t("stored"), outcomeText(d.stored)], [t("replayed"), rp.error ? rp.error : outcomeText(rp, d.stored)],
      [t("hashMatches"), rp.hash_matches == null ? "—" : rp.hash_matches ? t("yes") : t("no")],
      [t("sameResult"), rp.same_result == null ? "—" : rp.same_result ? t("yes") : t("no")]]));
  const summary = card(t("decisionOf", { id: d.score_id }),
    kv([[t("subject"), h("span", { class: "mono" }, d.subject_key)], [t("modelVersion"), d.model_version], [t("registryVersion"), d.registry_version],
      [t("asOf"), fmtDate(d.as_of)], [t("knownAt"), fmtDateTime(d.known_at)], [t("origin"), d.origin], [t("cause"), d.cause],
      [t("featureHash"), h("span", { class: "mono" }, d.feature_hash)]]),
    h("h3", {}, t("replay")), replayBox);
  const contributions = d.contributions;
  let chart;
  if (!contributions) {
    chart = card(t("contributions"), h("p", { class: "muted" }, t("noContrib")));
  } else {
    const entries = Object.entries(contributions).filter(([k]) => k !== "bias");
    const nonzero = entries.filter(([, v]) => v !== 0).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    const base = contributions.bias ?? 0;
    const total = base + entries.reduce((a, [, v]) => a + v, 0);
    const draw = narrow() ? waterfallCompact : waterfall;
    const name = (k) => tr(d.labels?.[k]) || k;
    const wf = draw(base, nonzero.map(([k, value]) => ({ label: name(k), value })), {
      label: t("wfLabel", { n: nonzero.length }), baseLabel: t("wfBase"), totalLabel: t("wfTotal"),
    });
    wf.id = "waterfall";
    wf.setAttribute("data-bars", String(nonzero.length));
    chart = card(t("contributions"),
      h("p", { class: "muted small" }, t("contribUnit")),
      h("p", { class: "legend" }, h("span", {}, h("i", { class: "k-D", "aria-hidden": "true" }), t("wfUp")),
        h("span", {}, h("i", { class: "k-A", "aria-hidden": "true" }), t("wfDown"))),
      h("div", { class: "chart-wrap wf" }, wf),
      h("p", { class: "muted small" }, t("zeroOmitted", { n: entries.length - nonzero.length, all: entries.length + 1 })),
      table([t("feature"), t("input"), t("contribution")],
        [...entries.map(([k, v]) => [[name(k), h("br"), h("span", { class: "mono small muted" }, k)], num(d.inputs?.[k], 6), num(v, 6)]),
          [h("span", { class: "mono" }, "bias"), "—", num(base, 6)],
          [h("strong", {}, t("wfTotal")), "", h("strong", {}, num(total, 6))]],
        { caption: t("contributions"), numeric: [1, 2] }));
    chart.id = "contributions";
  }
  const inputs = card(t("inputs"),
    h("details", {}, h("summary", {}, t("inputsN", { n: Object.keys(d.inputs || {}).length })),
      table([t("feature"), t("input")], Object.entries(d.inputs || {}).map(([k, v]) => [h("span", { class: "mono" }, k), num(v, 6)]),
        { caption: t("inputs"), numeric: [1] })));
  inputs.id = "inputs";
  return [summary, chart, inputs];
}

// ---- start -----------------------------------------------------------------------------------

takeTokenFromUrl();
setLanguage(language());
document.getElementById("lang").addEventListener("change", (ev) => {
  setLanguage(ev.target.value);
  render();
});
document.getElementById("signout").addEventListener("click", () => {
  signOut();
  state.plan = null;
  state.decisionId = "";
  history.replaceState(null, "", location.pathname);
  render();
  document.getElementById("token-input")?.focus();
});
window.addEventListener("hashchange", () => {
  if (/(?:^#|&)token=/.test(location.hash)) takeTokenFromUrl();
  render();
  main.focus();
});
render();
