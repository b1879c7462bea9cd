"""Model registry flows: register a serving bundle as an MLflow model version, aliases, export.

The bundle logged with a version carries that version's number, so a score can always be traced
to the registered model that made it. Export copies a verified bundle to
``<bundle_dir>/<subject>/<version>/`` (``scoring.bundles``), where the service loads it.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import mlflow
import mlflow.artifacts
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from experiments.pyfunc import BundlePyfunc
from experiments.tracking import REGISTERED_MODELS
from models.bundle import ServingBundle
from scoring.bundles import bundle_path, set_champion
from scoring.settings import Settings

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "alias_version",
    "download_bundle",
    "export_bundle",
    "next_version",
    "register_bundle",
]

CHAMPION = "champion"
CHALLENGER = "challenger"


def next_version(c: MlflowClient, name: str) -> str:
    try:
        versions = c.search_model_versions(f"name='{name}'")
    except MlflowException:
        return "1"
    return str(max((int(v.version) for v in versions), default=0) + 1)


def alias_version(c: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(c.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def register_bundle(c: MlflowClient, bundle: ServingBundle, *, subject: str, tags: dict[str, str]) -> str:
    """Log ``bundle`` in the active run and register it; returns the new version number.

    Must be called inside ``mlflow.start_run()``.
    """
    name = REGISTERED_MODELS[subject]
    version = next_version(c, name)
    stamped = dataclasses.replace(bundle, model_name=name, model_version=version)
    with tempfile.TemporaryDirectory() as tmp:
        path = stamped.save(Path(tmp) / "bundle")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=BundlePyfunc(),
            artifacts={"bundle": str(path)},
            registered_model_name=name,
        )
    registered = str(info.registered_model_version)
    if registered != version:
        raise RuntimeError(f"registered version {registered} but the bundle says {version}; register again")
    for key, value in tags.items():
        c.set_model_version_tag(name, version, key, value)
    return version


def download_bundle(c: MlflowClient, subject: str, version: str, dest: Path) -> ServingBundle:
    """Fetch a registered version's bundle into ``dest`` and verify it."""
    name = REGISTERED_MODELS[subject]
    mv = c.get_model_version(name, version)  # raises if the version does not exist
    logged = c.get_logged_model(str(mv.source).removeprefix("models:/"))
    dest.mkdir(parents=True, exist_ok=True)
    local = Path(
        mlflow.artifacts.download_artifacts(artifact_uri=logged.artifact_location, dst_path=str(dest))
    )
    manifests = sorted(local.rglob("manifest.json"))
    if len(manifests) != 1:
        raise FileNotFoundError(f"version {version} of {name} holds {len(manifests)} bundles")
    return ServingBundle.load(manifests[0].parent)


def export_bundle(c: MlflowClient, settings: Settings, subject: str, version: str, *, champion: bool) -> Path:
    """Copy a verified bundle to the serving folder; optionally make it the champion there."""
    target = bundle_path(settings.bundle_dir, subject, version)
    if not target.exists():
        with tempfile.TemporaryDirectory() as tmp:
            download_bundle(c, subject, version, Path(tmp))
            src = next(Path(tmp).rglob("manifest.json")).parent
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.with_name(f".{version}.tmp")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(src, staging)
            staging.rename(target)
    ServingBundle.load(target)  # verify what the service will read
    if champion:
        set_champion(settings.bundle_dir, subject, version)
    return target
