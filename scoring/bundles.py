"""Champion serving bundles on disk, as exported at promotion: ``<bundle_dir>/<subject>/<version>/``
and a ``CHAMPION`` pointer file naming the version. The request path loads them from here and
never imports MLflow.
"""

from __future__ import annotations

import os
from pathlib import Path

from models.bundle import ServingBundle

__all__ = [
    "ModelUnavailable",
    "bundle_path",
    "champion_version",
    "load_bundle",
    "load_champion",
    "set_champion",
]


class ModelUnavailable(LookupError):
    """No champion bundle has been exported for this subject type."""


def bundle_path(bundle_dir: Path, subject: str, version: str) -> Path:
    return Path(bundle_dir) / subject / str(version)


def champion_version(bundle_dir: Path, subject: str) -> str:
    pointer = Path(bundle_dir) / subject / "CHAMPION"
    if not pointer.exists():
        raise ModelUnavailable(f"no champion model for {subject}")
    return pointer.read_text(encoding="ascii").strip()


def set_champion(bundle_dir: Path, subject: str, version: str) -> None:
    """Atomically point ``CHAMPION`` at an exported version."""
    folder = Path(bundle_dir) / subject
    if not (folder / str(version) / "manifest.json").exists():
        raise ModelUnavailable(f"bundle {subject}/{version} has not been exported")
    tmp = folder / ".CHAMPION.tmp"
    tmp.write_text(f"{version}\n", encoding="ascii")
    os.replace(tmp, folder / "CHAMPION")


def load_bundle(bundle_dir: Path, subject: str, version: str) -> ServingBundle:
    """Load and verify (checksums) one exported version."""
    path = bundle_path(bundle_dir, subject, version)
    if not path.exists():
        raise ModelUnavailable(f"bundle {subject}/{version} not found")
    return ServingBundle.load(path)


def load_champion(bundle_dir: Path, subject: str) -> ServingBundle:
    return load_bundle(bundle_dir, subject, champion_version(bundle_dir, subject))
