"""Record identity and deduplication: which rows are new records, duplicates or corrections.

``record_uid`` is ``blake2b-128("kind|subject_key|natural key values")`` (hex): the same logical
record whatever file or department it comes from. ``content_hash`` is ``blake2b-128`` of the
canonical JSON of ``event_date`` and the typed fields (not the department). ``classify`` compares
each row, in line order, with the latest stored version of its record and with earlier rows of
the batch: same content is a duplicate, new content from the same department a correction
(version n+1), new content from another department a conflict.
"""

from __future__ import annotations

import hashlib
from typing import Any

import polars as pl

from features.validate import LINE
from scoring.identity import IdentityVault

__all__ = ["blake", "classify", "with_identity"]


def blake(values: list[str]) -> list[str]:
    b2 = hashlib.blake2b
    return [b2(v.encode(), digest_size=16).hexdigest() for v in values]


def with_identity(rec: pl.DataFrame, vault: IdentityVault) -> pl.DataFrame:
    """Add subject_key (HMAC of a person's number, an organisation's code), record_uid, content_hash."""
    persons = rec.filter(pl.col("subject_type") == "person")["subject_id"].unique().to_list()
    keys = pl.DataFrame(
        {"subject_id": persons, "_pkey": [vault.lookup_key(n) for n in persons]},
        schema={"subject_id": pl.Utf8, "_pkey": pl.Utf8},
    )
    rec = rec.join(keys, on="subject_id", how="left").with_columns(
        pl.when(pl.col("subject_type") == "person")
        .then(pl.col("_pkey"))
        .otherwise(pl.col("subject_id"))
        .alias("subject_key")
    )
    uid_text = rec.select(pl.concat_str(["kind", "subject_key", "natural_key"], separator="|")).to_series()
    return rec.drop("_pkey").with_columns(
        pl.Series("record_uid", blake(uid_text.to_list()), dtype=pl.Utf8),
        pl.Series("content_hash", blake(rec["content"].to_list()), dtype=pl.Utf8),
    )


def classify(rec: pl.DataFrame, stored: pl.DataFrame) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Set ``_outcome`` and ``_version`` of every valid row; conflicts leave as quarantine rows."""
    rec = rec.with_columns(pl.len().over("record_uid").alias("_n"))
    in_store = pl.col("record_uid").is_in(stored["record_uid"].to_list())
    simple = rec.filter((pl.col("_n") == 1) & ~in_store).with_columns(
        pl.lit("accepted").alias("_outcome"), pl.lit(1, pl.Int64).alias("_version")
    )
    rest = rec.filter(~((pl.col("_n") == 1) & ~in_store))
    conflicts: list[dict[str, Any]] = []
    if rest.height:
        state: dict[str, tuple[int, str, str]] = {
            u: (int(v), h, d)
            for u, v, h, d in stored.select("record_uid", "version", "content_hash", "department").iter_rows()
        }
        outcomes: list[str] = []
        versions: list[int | None] = []
        for line, uid, chash, dept in rest.select(
            LINE, "record_uid", "content_hash", "department"
        ).iter_rows():
            prev = state.get(uid)
            if prev is None:
                state[uid] = (1, chash, dept)
                outcomes.append("accepted")
                versions.append(1)
            elif prev[1] == chash:
                outcomes.append("duplicate")
                versions.append(None)
            elif prev[2] == dept:
                state[uid] = (prev[0] + 1, chash, dept)
                outcomes.append("correction")
                versions.append(prev[0] + 1)
            else:
                outcomes.append("conflict")
                versions.append(None)
                conflicts.append(
                    {
                        LINE: line,
                        "reason_code": "conflict",
                        "message": (
                            f"same record as version {prev[0]} from department {prev[2]}"
                            f" with different content, sent by department {dept}"
                        ),
                    }
                )
        rest = rest.with_columns(
            pl.Series("_outcome", outcomes, dtype=pl.Utf8), pl.Series("_version", versions, dtype=pl.Int64)
        )
        simple = pl.concat([simple, rest]).sort(LINE)
    return simple, conflicts
