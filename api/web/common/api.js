// Shared by the citizen app and the staff pages: sign-in, the API client, i18n, DOM and charts.
// No framework and no build step: ES modules served by the service itself.

const TOKEN = "credit.token";
const LANG = "credit.lang";

// ---- session -------------------------------------------------------------------------------

/** A development sign-in link carries its token in the URL fragment (never sent to a server):
 *  take it into this tab's session storage and clean the address bar. */
export function takeTokenFromUrl() {
  const m = location.hash.match(/(?:^#|&)token=([A-Za-z0-9._-]+)/);
  if (m) {
    sessionStorage.setItem(TOKEN, m[1]);
    history.replaceState(null, "", location.pathname + location.search);
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function signIn(value) {
  sessionStorage.setItem(TOKEN, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(TOKEN);
}

/** The token's claims (role, sub, orgs, exp), read without verifying: the server verifies. */
export function claims() {
  const t = token();
  if (!t) return null;
  try {
    const part = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      atob(part).split("").map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
    );
    const c = JSON.parse(json);
    if (c.exp && c.exp * 1000 < Date.now()) return null;
    return c;
  } catch {
    return null;
  }
}

// ---- API -----------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Calls the service's API with the bearer token; errors become ApiError with the problem. */
export async function api(path, { method = "GET", body, headers = {}, raw = false } = {}) {
  const h = { Accept: "application/json", ...headers };
  const t = token();
  if (t) h.Authorization = `Bearer ${t}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) {
    let problem = { title: r.statusText, status: r.status };
    try {
      problem = await r.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(r.status, problem);
  }
  if (raw) return r;
  if (r.status === 204) return null;
  return r.json();
}

/** A random idempotency key for a create request (kept by the caller across retries). */
export function idempotencyKey() {
  const a = new Uint8Array(16);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- i18n ----------------------------------------------------------------------------------

let lang = localStorage.getItem(LANG) || "zh";
let dict = { zh: {}, en: {} };

export function setDictionary(d) {
  dict = d;
}

export function language() {
  return lang;
}

export function setLanguage(value) {
  lang = value === "en" ? "en" : "zh";
  localStorage.setItem(LANG, lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

/** The text for a key in the current language, with {name} placeholders filled. */
export function t(key, values = {}) {
  const s = (dict[lang] && dict[lang][key]) ?? (dict.en && dict.en[key]) ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (values[k] ?? ""));
}

/** A server text object {zh, en} in the current language. */
export function tr(obj) {
  if (obj == null) return "";
  if (typeof obj === "string") return obj;
  return obj[lang] ?? obj.zh ?? obj.en ?? "";
}

// ---- DOM (text only: data never becomes HTML) -----------------------------------------------

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** A message area that screen readers announce. */
export function notice(kind, text) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function fmtDate(value) {
  if (!value) return "—";
  return String(value).slice(0, 10);
}

export function fmtDateTime(value) {
  if (!value) return "—";
  return String(value).slice(0, 16).replace("T", " ");
}

export function fmtNumber(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

// ---- charts (SVG, drawn here) ---------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An SVG with a title and a description for assistive technology. */
export function svgFigure(width, height, label, ...children) {
  return s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "chart", preserveAspectRatio: "xMidYMid meet" },
    s("title", {}, label),
    ...children,
  );
}

/** Line chart of [{x: label, y: number}] between yMin and yMax. */
export function lineChart(points, { label, yMin, yMax, width = 360, height = 180 } = {}) {
  const pad = { l: 40, r: 12, t: 12, b: 28 };
  const W = width - pad.l - pad.r;
  const H = height - pad.t - pad.b;
  const lo = yMin ?? Math.min(...points.map((p) => p.y));
  const hi = yMax ?? Math.max(...points.map((p) => p.y));
  const span = hi - lo || 1;
  const x = (i) => pad.l + (points.length === 1 ? W / 2 : (i * W) / (points.length - 1));
  const y = (v) => pad.t + H - ((v - lo) * H) / span;
  const grid = [lo, lo + span / 2, hi].map((v) =>
    s("g", {}, s("line", { x1: pad.l, x2: pad.l + W, y1: y(v), y2: y(v), class: "grid" }),
      s("text", { x: pad.l - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, Math.round(v))),
  );
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.y).toFixed(1)}`).join(" ");
  const dots = points.map((p, i) =>
    s("g", {}, s("circle", { cx: x(i), cy: y(p.y), r: 4, class: "dot" }, s("title", {}, `${p.x}: ${p.y}`)),
      s("text", { x: x(i), y: height - 8, class: "axis",
        "text-anchor": points.length > 1 && i === 0 ? "start" : points.length > 1 && i === points.length - 1 ? "end" : "middle" }, p.x)),
  );
  return svgFigure(width, height, label, grid, s("path", { d: path, class: "line" }), dots);
}

/** Horizontal stacked bars: rows [{label, parts: {key: count}}], keys in order with their class. */
export function stackedBars(rows, keys, { label, width = 560, rowHeight = 26 } = {}) {
  const pad = { l: 110, r: 40, t: 8 };
  const height = pad.t + rows.length * rowHeight + 8;
  const W = width - pad.l - pad.r;
  const max = Math.max(1, ...rows.map((r) => keys.reduce((a, k) => a + (r.parts[k] || 0), 0)));
  const bars = rows.map((r, i) => {
    let at = pad.l;
    const yy = pad.t + i * rowHeight;
    const total = keys.reduce((a, k) => a + (r.parts[k] || 0), 0);
    const segs = keys.map((k) => {
      const n = r.parts[k] || 0;
      const w = (n * W) / max;
      const rect = n
        ? s("rect", { x: at, y: yy + 3, width: Math.max(w, 1), height: rowHeight - 8, class: `seg seg-${k}` },
            s("title", {}, `${r.label} · ${k}: ${n}`))
        : null;
      at += w;
      return rect;
    });
    return s("g", {}, s("text", { x: pad.l - 8, y: yy + rowHeight / 2 + 4, class: "axis", "text-anchor": "end" }, r.label),
      segs, s("text", { x: at + 6, y: yy + rowHeight / 2 + 4, class: "axis" }, total));
  });
  return svgFigure(width, height, label, bars);
}

/** A label cut to about ``units`` character widths (a CJK character counts two), with an ellipsis. */
export function clip(label, units) {
  let used = 0;
  let out = "";
  for (const ch of String(label)) {
    used += /[\u2e80-\u9fff\uff00-\uffef]/.test(ch) ? 2 : 1;
    if (used > units) return `${out}…`;
    out += ch;
  }
  return out;
}

/** Rows of a waterfall (base, each contribution, total), the span each bar covers, and the range. */
function waterfallLayout(base, items, baseLabel, totalLabel) {
  const rows = [{ label: baseLabel, value: base, kind: "base" }, ...items, { label: totalLabel, kind: "total" }];
  let run = base;
  const spans = rows.map((r) => {
    if (r.kind === "base") return [0, base];
    if (r.kind === "total") return [0, run];
    const from = run;
    run += r.value;
    return [from, run];
  });
  const all = spans.flat();
  const bar = (r, i) => ({
    span: spans[i],
    cls: r.kind ? `bar-${r.kind}` : r.value >= 0 ? "bar-up" : "bar-down",
    shown: r.kind === "total" ? spans[i][1] : r.kind === "base" ? base : r.value,
  });
  return { rows, bars: rows.map(bar), lo: Math.min(0, ...all), hi: Math.max(0, ...all) };
}

/** Waterfall from a base value through signed contributions [{label, value}] to the total. */
export function waterfall(base, items, { label, width = 640, rowHeight = 24, baseLabel = "base", totalLabel = "total" } = {}) {
  const pad = { l: 220, r: 70, t: 8 };
  const { rows, bars, lo, hi } = waterfallLayout(base, items, baseLabel, totalLabel);
  const W = width - pad.l - pad.r;
  const x = (v) => pad.l + ((v - lo) * W) / (hi - lo || 1);
  const height = pad.t + rows.length * rowHeight + 8;
  const g = rows.map((r, i) => {
    const { span: [a, b], cls, shown } = bars[i];
    const yy = pad.t + i * rowHeight;
    const text = (r.kind ? "" : shown >= 0 ? "+" : "") + (Math.round(shown * 1000) / 1000).toString();
    return s("g", {}, s("text", { x: pad.l - 8, y: yy + rowHeight / 2 + 4, class: "axis", "text-anchor": "end" }, clip(r.label, 36)),
      s("rect", { x: Math.min(x(a), x(b)), y: yy + 3, width: Math.max(Math.abs(x(b) - x(a)), 1), height: rowHeight - 8, class: cls },
        s("title", {}, `${r.label}: ${text}`)),
      s("text", { x: Math.max(x(a), x(b)) + 6, y: yy + rowHeight / 2 + 4, class: "axis" }, text));
  });
  return svgFigure(width, height, label, s("line", { x1: x(0), x2: x(0), y1: pad.t, y2: height - 4, class: "grid" }), g);
}

/** The waterfall of ``waterfall()`` for a narrow screen: each row's label on its own line above
 *  its bar, so that long labels and the bars both get the full width. Same bar classes. */
export function waterfallCompact(base, items, { label, width = 340, baseLabel = "base", totalLabel = "total", digits = 3 } = {}) {
  const pad = { l: 6, r: 58, t: 4 };
  const rowHeight = 38;
  const { rows, bars, lo, hi } = waterfallLayout(base, items, baseLabel, totalLabel);
  const W = width - pad.l - pad.r;
  const x = (v) => pad.l + ((v - lo) * W) / (hi - lo || 1);
  const height = pad.t + rows.length * rowHeight + 4;
  const round = (v) => Math.round(v * 10 ** digits) / 10 ** digits;
  const g = rows.map((r, i) => {
    const { span: [a, b], cls, shown } = bars[i];
    const yy = pad.t + i * rowHeight;
    const text = (r.kind ? "" : shown >= 0 ? "+" : "") + round(shown).toString();
    return s("g", {}, s("text", { x: pad.l, y: yy + 13, class: "axis" }, clip(r.label, 54)),
      s("rect", { x: Math.min(x(a), x(b)), y: yy + 18, width: Math.max(Math.abs(x(b) - x(a)), 1), height: 14, class: cls },
        s("title", {}, `${r.label}: ${text}`)),
      s("text", { x: Math.max(x(a), x(b)) + 5, y: yy + 29, class: "axis" }, text));
  });
  return svgFigure(width, height, label, s("line", { x1: x(0), x2: x(0), y1: pad.t + 16, y2: height - 4, class: "grid" }), g);
}
