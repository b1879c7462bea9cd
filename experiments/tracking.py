"""MLflow configuration: a local SQLite store under ``var/`` by default, a server through settings.

Registered models: ``credit-person-pd`` and ``credit-enterprise-pd``, with aliases ``champion``
and ``challenger``.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from scoring.settings import Settings

__all__ = ["EXPERIMENTS", "REGISTERED_MODELS", "client", "configure", "ensure_experiment"]

REGISTERED_MODELS = {"person": "credit-person-pd", "enterprise": "credit-enterprise-pd"}
EXPERIMENTS = {"person": "person-pd", "enterprise": "enterprise-pd", "byod": "bring-your-own-data"}


def configure(settings: Settings) -> None:
    """Point MLflow tracking and registry at the configured store."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = settings.mlflow_tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


def ensure_experiment(name: str, settings: Settings) -> str:
    """The experiment's id, creating it with artifacts under the configured root."""
    configure(settings)
    c = MlflowClient()
    found = c.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    root = settings.mlflow_artifact_root
    location = root if "://" in root else Path(root).resolve().as_uri()
    return str(c.create_experiment(name, artifact_location=f"{location.rstrip('/')}/{name}"))


def client(settings: Settings) -> MlflowClient:
    configure(settings)
    return MlflowClient()
