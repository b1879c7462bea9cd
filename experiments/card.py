"""Model cards: one per registered version, in Markdown and HTML, logged to MLflow.

Sections: intended use and limits, data window, features with their directions, metrics overall
and by group, calibration, fairness and its gate, known weaknesses.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from models.fairness import GateResult

__all__ = ["FeatureRow", "ModelCard"]

_DIRECTION = {1: "more is better", -1: "more is worse", 0: "no constraint"}

INTENDED_USE = {
    "person": (
        "Estimates the probability that an adult resident has a serious delinquency (90+ days overdue on a"
        " loan, arrears referred to enforcement, or a judgment-defaulter listing) in the next 12 months, from"
        " public credit records usable on the scoring date. It drives the 350–950 person score, its tier,"
        " incentives (信易+) and the credit-loan assessment shown to banks with the person's consent."
    ),
    "enterprise": (
        "Estimates the probability that an organisation has a serious violation, an abnormal-operation"
        " listing or tax credit level D in the next 12 months. It drives the A–D enterprise class used for"
        " tiered supervision and credit loans; listings downgrade the class by explicit policy on top."
    ),
}
LIMITS = (
    "Not for placing anyone on a punitive list: lists come only from departmental determinations.",
    "Persons under 18 are never scored; thin files get the explicit state 'insufficient record'.",
    "Protected attributes (gender, age, district) are not inputs; they are used only to audit fairness.",
    "Trained on the synthetic city unless stated otherwise; recalibrate before use on real records.",
)


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        return str(v).replace("|", "\\|")

    head = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


@dataclass(frozen=True)
class FeatureRow:
    name: str
    en: str
    zh: str
    direction: int
    importance: float


@dataclass(frozen=True)
class ModelCard:
    subject: str
    family: str
    model_name: str
    version: str
    created_at: str
    train_as_of: str
    valid_as_of: str
    feature_registry_version: str
    training_data_hash: str
    counts: Mapping[str, int]
    metrics: Mapping[str, Mapping[str, float]]  # dataset -> metric -> value
    calibration: pd.DataFrame
    features: Sequence[FeatureRow]
    fairness: Mapping[str, pd.DataFrame]
    gates: Mapping[str, GateResult]
    thin_file_rule: str
    pd_cutoff: float
    weaknesses: Sequence[str] = field(default_factory=tuple)

    # --- shared structure -------------------------------------------------------------------
    def _sections(self) -> list[tuple[str, list[str | pd.DataFrame]]]:
        metric_rows = pd.DataFrame(self.metrics).T
        feats = pd.DataFrame(
            [
                {
                    "feature": f.name,
                    "description": f.en,
                    "说明": f.zh,
                    "direction": _DIRECTION.get(f.direction, str(f.direction)),
                    "importance": round(f.importance, 4),
                }
                for f in sorted(self.features, key=lambda r: -r.importance)
            ]
        )
        fairness_blocks: list[str | pd.DataFrame] = []
        for feature, table in self.fairness.items():
            gate = self.gates.get(feature)
            verdict = "passed" if gate is None or gate.passed else "FAILED: " + "; ".join(gate.reasons)
            fairness_blocks.append(f"By {feature} (approval = PD < {self.pd_cutoff}); gate {verdict}.")
            fairness_blocks.append(table.round(4).reset_index())
        return [
            ("Intended use", [INTENDED_USE.get(self.subject, ""), *[f"- {limit}" for limit in LIMITS]]),
            (
                "Data",
                [
                    f"- Trained on labels as of {self.train_as_of};"
                    f" validated out of time as of {self.valid_as_of}.",
                    f"- Feature registry version {self.feature_registry_version}; training data sha256"
                    f" {self.training_data_hash[:16]}….",
                    *[f"- {k}: {v:,}" for k, v in self.counts.items()],
                    f"- Thin-file rule: {self.thin_file_rule}",
                ],
            ),
            ("Metrics", [metric_rows.round(4).reset_index(names="dataset")]),
            ("Calibration (validation, deciles of PD)", [self.calibration.round(4)]),
            ("Features", [feats]),
            ("Fairness", fairness_blocks or ["No sensitive attributes available."]),
            ("Known weaknesses", [f"- {w}" for w in self.weaknesses] or ["- None recorded."]),
        ]

    @property
    def title(self) -> str:
        return f"Model card — {self.model_name} v{self.version} ({self.family}, {self.subject})"

    # --- renderings -------------------------------------------------------------------------
    def to_markdown(self) -> str:
        out = [f"# {self.title}", "", f"Created {self.created_at}.", ""]
        for heading, blocks in self._sections():
            out += [f"## {heading}", ""]
            for block in blocks:
                out.append(_markdown_table(block) if isinstance(block, pd.DataFrame) else block)
                out.append("")
        return "\n".join(out)

    def to_html(self) -> str:
        parts = [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(self.title)}</title>",
            "<style>body{font-family:sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;"
            "color:#1a1a1a}"
            "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #bbb;padding:.2rem .5rem;"
            "text-align:right}th{background:#eef}td:first-child{text-align:left}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1><p>Created {html.escape(self.created_at)}.</p>",
        ]
        for heading, blocks in self._sections():
            parts.append(f"<h2>{html.escape(heading)}</h2>")
            items: list[str] = []
            for block in blocks:
                if isinstance(block, pd.DataFrame):
                    if items:
                        parts.append("<ul>" + "".join(items) + "</ul>")
                        items = []
                    parts.append(block.to_html(index=False, border=0))
                elif block.startswith("- "):
                    items.append(f"<li>{html.escape(block[2:])}</li>")
                else:
                    if items:
                        parts.append("<ul>" + "".join(items) + "</ul>")
                        items = []
                    parts.append(f"<p>{html.escape(block)}</p>")
            if items:
                parts.append("<ul>" + "".join(items) + "</ul>")
        parts.append("</body></html>")
        return "\n".join(parts)
