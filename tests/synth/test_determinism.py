"""Same seed, same bytes; another seed, other bytes."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from synth import CityConfig, CitySummary, generate_city


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(
    small_city: tuple[Path, CitySummary], small_config: CityConfig, tmp_path: Path
) -> None:
    first, _ = small_city
    generate_city(small_config, tmp_path)
    a, b = _digests(first), _digests(tmp_path)
    assert len(a) > 100
    assert a == b


def test_other_seed_other_bytes(
    small_city: tuple[Path, CitySummary], small_config: CityConfig, tmp_path: Path
) -> None:
    first, _ = small_city
    generate_city(dataclasses.replace(small_config, seed=small_config.seed + 1), tmp_path)
    a, b = _digests(first), _digests(tmp_path)
    shared = set(a) & set(b)
    assert shared
    assert all(a[f] != b[f] for f in shared if f.startswith("files/"))
    assert a["truth/truth.parquet"] != b["truth/truth.parquet"]


def test_regenerating_into_the_same_folder_replaces_the_city(
    small_config: CityConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(small_config, people=60, enterprises=5)
    generate_city(config, tmp_path)
    before = _digests(tmp_path)
    generate_city(config, tmp_path)
    assert _digests(tmp_path) == before


def test_no_defects_when_disabled(small_config: CityConfig, tmp_path: Path) -> None:
    config = dataclasses.replace(small_config, people=80, enterprises=8, defect_rate=0.0)
    summary = generate_city(config, tmp_path)
    assert sum(summary.defects.values()) == 0
    assert (tmp_path / "manifest.csv").read_text(encoding="utf-8").splitlines() == [
        "file,line,defect,expected,detail"
    ]
