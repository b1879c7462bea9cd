"""Data-quality bulletins (数据质量通报) per department and period: what each department sent and how well.

For the batches received in the period (``ingest_batches.started_at`` in ``[start, end)``),
per department:

* **volume** and **outcomes**: rows read = accepted + duplicate + correction + quarantined (the
  batches' own reconciled counts), and their shares;
* **quarantine reasons**: quarantined rows by reason code (``features/reasons.py``); **conflicts**
  (same natural key, other content, another department) are one of them;
* **timeliness**: days from the event date to receipt, over the accepted records (median, 90th
  percentile, and the share received within 30 days);
* **completeness**: over a sample of accepted records (up to ``sample`` per department), the mean
  share of their kind's optional fields that are filled in (required fields are always present:
  a row missing one is quarantined).

``write_bulletin`` writes ``bulletin-<period>.html`` (tables and inline SVG charts, no external
assets) and ``bulletin-<period>.csv`` (one row per department).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from features.catalogue import Catalogue, load_catalogue

__all__ = ["Bulletin", "DepartmentQuality", "bulletin", "parse_period", "write_bulletin"]

_PERIOD = re.compile(r"^(\d{4})-(Q[1-4]|\d{2})$")
ON_TIME_DAYS = 30


def parse_period(period: str) -> tuple[dt.date, dt.date]:
    """``2026-Q3`` → (2026-07-01, 2026-10-01); ``2026-09`` → (2026-09-01, 2026-10-01)."""
    m = _PERIOD.match(period)
    if not m:
        raise ValueError(f"period must look like 2026-Q3 or 2026-09, got {period!r}")
    year, part = int(m.group(1)), m.group(2)
    if part.startswith("Q"):
        first = 3 * (int(part[1]) - 1) + 1
        months = 3
    else:
        first = int(part)
        if not 1 <= first <= 12:
            raise ValueError(f"no month {first} in {period!r}")
        months = 1
    start = dt.date(year, first, 1)
    y, m0 = divmod(first - 1 + months, 12)
    return start, dt.date(year + y, m0 + 1, 1)


@dataclass
class DepartmentQuality:
    department: str
    batches: int = 0
    rows_read: int = 0
    accepted: int = 0
    duplicate: int = 0
    correction: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    timeliness_median_days: float | None = None
    timeliness_p90_days: float | None = None
    received_within_30_days: float | None = None
    completeness: float | None = None

    @property
    def conflicts(self) -> int:
        return self.reasons.get("conflict", 0)

    def share(self, outcome: str) -> float:
        return getattr(self, outcome) / self.rows_read if self.rows_read else 0.0


@dataclass
class Bulletin:
    period: str
    start: dt.date
    end: dt.date
    departments: list[DepartmentQuality]

    def total(self, outcome: str) -> int:
        return sum(int(getattr(d, outcome)) for d in self.departments)


def _days(received: Any, event: Any) -> float:
    r = received if isinstance(received, dt.datetime) else dt.datetime.fromisoformat(str(received))
    e = event if isinstance(event, dt.date) else dt.date.fromisoformat(str(event))
    return float((r.date() - e).days)


def bulletin(
    engine: Engine, period: str, *, sample: int = 20_000, catalogue: Catalogue | None = None
) -> Bulletin:
    cat = catalogue or load_catalogue()
    start, end = parse_period(period)
    lo, hi = dt.datetime.combine(start, dt.time()), dt.datetime.combine(end, dt.time())
    window = {"a": lo, "b": hi}
    depts: dict[str, DepartmentQuality] = {}
    with engine.connect() as conn:
        for dep, n, read, acc, dup, cor, qua in conn.execute(
            text(
                "SELECT COALESCE(department, '(mixed)'), COUNT(*), SUM(rows_read), SUM(accepted),"
                " SUM(duplicate), SUM(correction), SUM(quarantined) FROM ingest_batches"
                " WHERE started_at >= :a AND started_at < :b GROUP BY COALESCE(department, '(mixed)')"
            ),
            window,
        ):
            depts[dep] = DepartmentQuality(dep, int(n), int(read), int(acc), int(dup), int(cor), int(qua))
        for dep, reason, n in conn.execute(
            text(
                "SELECT COALESCE(b.department, '(mixed)'), q.reason_code, COUNT(*) FROM quarantined_rows q"
                " JOIN ingest_batches b ON b.id = q.batch_id WHERE b.started_at >= :a AND b.started_at < :b"
                " GROUP BY COALESCE(b.department, '(mixed)'), q.reason_code"
            ),
            window,
        ):
            depts[dep].reasons[reason] = int(n)
        for dep, quality in depts.items():
            where = "b.department = :d" if dep != "(mixed)" else "b.department IS NULL"
            rows = conn.execute(
                text(
                    "SELECT r.kind, r.event_date, r.recorded_at, r.payload, r.amount, r.quantity, r.outcome"
                    " FROM records r JOIN ingest_batches b ON b.id = r.batch_id"
                    f" WHERE {where} AND b.started_at >= :a AND b.started_at < :b ORDER BY r.id LIMIT :n"
                ),
                {**window, "d": dep, "n": sample},
            ).all()
            if not rows:
                continue
            lags = sorted(_days(r.recorded_at, r.event_date) for r in rows)
            quality.timeliness_median_days = statistics.median(lags)
            quality.timeliness_p90_days = lags[min(len(lags) - 1, int(0.9 * len(lags)))]
            quality.received_within_30_days = sum(lag <= ON_TIME_DAYS for lag in lags) / len(lags)
            filled: list[float] = []
            for r in rows:
                spec = cat.kinds.get(r.kind)
                if spec is None:
                    continue
                optional = [f for f in spec.fields.values() if not f.required]
                if not optional:
                    continue
                payload = json.loads(r.payload) if r.payload else {}
                columns = {"amount": r.amount, "quantity": r.quantity, "outcome": r.outcome}
                have = sum(
                    1
                    for f in optional
                    if payload.get(f.name) not in (None, "")
                    or (f.column and columns.get(f.column) is not None)
                )
                filled.append(have / len(optional))
            quality.completeness = statistics.fmean(filled) if filled else None
    return Bulletin(period, start, end, sorted(depts.values(), key=lambda d: d.department))


# --- output --------------------------------------------------------------------------------------

_COLOURS = {"accepted": "#2e7d32", "duplicate": "#9e9e9e", "correction": "#1565c0", "quarantined": "#c62828"}
_CSV_FIELDS = (
    "department",
    "batches",
    "rows_read",
    "accepted",
    "duplicate",
    "correction",
    "quarantined",
    "conflicts",
    "quarantined_share",
    "timeliness_median_days",
    "timeliness_p90_days",
    "received_within_30_days",
    "completeness",
    "reasons",
)


def _csv_cell(value: Any) -> Any:
    """Spreadsheet-safe: a text cell starting with = + - @ is prefixed with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _bar(d: DepartmentQuality, width: int = 320) -> str:
    x = 0.0
    parts = []
    for outcome, colour in _COLOURS.items():
        w = width * d.share(outcome)
        if w > 0:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="14" fill="{colour}">'
                f"<title>{outcome} {d.share(outcome):.1%}</title></rect>"
            )
        x += w
    return f'<svg width="{width}" height="14" role="img" aria-label="outcomes">{"".join(parts)}</svg>'


def write_bulletin(b: Bulletin, out_dir: str | Path) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"bulletin-{b.period}.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(_CSV_FIELDS)
        for d in b.departments:
            row = asdict(d)
            row["conflicts"] = d.conflicts
            row["quarantined_share"] = round(d.share("quarantined"), 6)
            row["reasons"] = ";".join(f"{k}={v}" for k, v in sorted(d.reasons.items()))
            w.writerow([_csv_cell(row[k]) for k in _CSV_FIELDS])
    rows = []
    for d in b.departments:
        reasons = ", ".join(
            f"{html.escape(k)} {v}" for k, v in sorted(d.reasons.items(), key=lambda kv: -kv[1])
        )
        med = "–" if d.timeliness_median_days is None else f"{d.timeliness_median_days:.0f}"
        p90 = "–" if d.timeliness_p90_days is None else f"{d.timeliness_p90_days:.0f}"
        within = "–" if d.received_within_30_days is None else f"{d.received_within_30_days:.0%}"
        comp = "–" if d.completeness is None else f"{d.completeness:.0%}"
        rows.append(
            f"<tr><td>{html.escape(d.department)}</td><td>{d.batches}</td><td>{d.rows_read:,}</td>"
            f"<td>{_bar(d)}</td><td>{d.share('quarantined'):.2%}</td><td>{d.conflicts}</td>"
            f"<td>{med} / {p90}</td><td>{within}</td><td>{comp}</td><td>{reasons}</td></tr>"
        )
    legend = " ".join(f'<span style="color:{c}">■</span> {k}' for k, c in _COLOURS.items())
    page = f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>数据质量通报 {b.period}</title>
<style>body{{font-family:sans-serif;margin:2em;color:#111}}table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:4px 8px;font-size:14px;text-align:left}}
th{{background:#eee}}</style></head>
<body><h1>数据质量通报 Data-quality bulletin {b.period}</h1>
<p>Batches received {b.start} – {b.end - dt.timedelta(days=1)}: {b.total("rows_read"):,} rows read,
{b.total("accepted"):,} accepted, {b.total("duplicate"):,} duplicates, {b.total("correction"):,} corrections,
{b.total("quarantined"):,} quarantined.</p>
<p>{legend}</p>
<table><thead><tr><th>部门 department</th><th>批次 batches</th><th>行数 rows</th><th>结果 outcomes</th>
<th>隔离率 quarantined</th><th>冲突 conflicts</th><th>时效（中位/P90，天） days to receipt</th>
<th>30天内 within 30 days</th><th>完整性 completeness</th><th>隔离原因 reasons</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></body></html>
"""
    html_path = out / f"bulletin-{b.period}.html"
    html_path.write_text(page, encoding="utf-8")
    return html_path, csv_path
