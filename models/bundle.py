"""The serving bundle: one directory holding everything the request path needs to score.

Layout::

    <dir>/manifest.json     what the model is (below), and the sha256 of every other file
    <dir>/manifest.sha256   sha256 of manifest.json's exact bytes ("<hex>  manifest.json")
    <dir>/model.txt         lgbm: LightGBM booster text (Booster.model_to_string)
    <dir>/scorecard.json    scorecard: bins, WoE, coefficients (models.woe.WoeLogit)

``manifest.json`` fields: ``format`` (``"credit-serving-bundle/1"``), ``family`` (``"lgbm"`` or
``"scorecard"``), ``model_name``, ``model_version``, ``features`` (model order), ``encoding``
(category lists, :mod:`models.encoding`), ``monotone`` (direction per feature), ``calibration``
(Platt intercept and slope, :mod:`models.calibration`), ``scaling`` (:class:`ScoreScaling`),
``feature_registry_version``, ``training_data_hash``, ``created_at`` (ISO 8601, UTC), ``metadata``
(free-form strings, e.g. metrics) and ``files`` (name → sha256).

:meth:`ServingBundle.load` recomputes every checksum and refuses the bundle — raising
:class:`BundleIntegrityError` — on any mismatch, a missing file or an unexpected extra file. It
imports neither optbinning nor MLflow: LightGBM text and JSON are all it reads.

Errors::

    BundleError
      + BundleIntegrityError   checksum mismatch, missing or unexpected file, unreadable manifest
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd

from models.binary import MonotonePdModel
from models.calibration import PlattCalibration, sigmoid
from models.encoding import FeatureEncoding
from models.scaling import DEFAULT_SCALING, ScoreScaling, score_from_pd
from models.woe import WoeLogit

__all__ = ["BUNDLE_FORMAT", "BundleError", "BundleIntegrityError", "ServingBundle", "dataset_fingerprint"]

BUNDLE_FORMAT = "credit-serving-bundle/1"
MANIFEST = "manifest.json"
CHECKSUM = "manifest.sha256"
_MODEL_FILE = {"lgbm": "model.txt", "scorecard": "scorecard.json"}

Family = Literal["lgbm", "scorecard"]


class BundleError(Exception):
    """Base of the bundle errors."""


class BundleIntegrityError(BundleError):
    """A bundle on disk does not match its checksums (tampered, truncated or incomplete)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dataset_fingerprint(X: pd.DataFrame, y: npt.ArrayLike | None = None) -> str:
    """sha256 of a training set: column names, dtypes and cell values (row order matters)."""
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in X.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    if y is not None:
        h.update(pd.util.hash_pandas_object(pd.Series(np.asarray(y)), index=False).to_numpy().tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class ServingBundle:
    """A scoring model with everything needed to turn features into a PD, reasons and a score.

    Build one with :meth:`from_estimator`, write it with :meth:`save`, read it with :meth:`load`.
    ``X`` arguments are encoded float matrices in :attr:`features` order (see :meth:`encode`).
    """

    family: Family
    model_name: str
    model_version: str
    encoding: FeatureEncoding
    monotone: Mapping[str, int]
    calibration: PlattCalibration
    scaling: ScoreScaling
    feature_registry_version: str
    training_data_hash: str
    created_at: str
    booster: lgb.Booster | None = None
    scorecard: WoeLogit | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.family == "lgbm" and self.booster is None:
            raise ValueError("an lgbm bundle needs a booster")
        if self.family == "scorecard" and self.scorecard is None:
            raise ValueError("a scorecard bundle needs its WoE tables")
        if self.family not in _MODEL_FILE:
            raise ValueError(f"unknown model family {self.family!r}")

    # --- construction ----------------------------------------------------------------------------
    @classmethod
    def from_estimator(
        cls,
        estimator: MonotonePdModel,
        *,
        model_name: str,
        model_version: str,
        feature_registry_version: str,
        training_data_hash: str,
        scaling: ScoreScaling | None = None,
        created_at: dt.datetime | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ServingBundle:
        """Package a fitted :class:`~models.gbm.MonotoneLgbm` or :class:`~models.scorecard.WoeScorecard`."""
        booster = getattr(estimator, "booster_", None)
        woe_model = getattr(estimator, "woe_model_", None)
        if booster is not None:
            family: Family = "lgbm"
        elif woe_model is not None:
            family = "scorecard"
        else:
            raise ValueError("the estimator is not a fitted MonotoneLgbm or WoeScorecard")
        if scaling is None:
            scaling = getattr(estimator, "scaling", None) or DEFAULT_SCALING
        when = created_at or dt.datetime.now(dt.UTC)
        return cls(
            family=family,
            model_name=model_name,
            model_version=str(model_version),
            encoding=estimator.encoding_,
            monotone=dict(estimator.monotone_),
            calibration=estimator.calibration_params(),
            scaling=scaling,
            feature_registry_version=feature_registry_version,
            training_data_hash=training_data_hash,
            created_at=when.astimezone(dt.UTC).isoformat(timespec="seconds"),
            booster=booster,
            scorecard=woe_model,
            metadata=dict(metadata or {}),
        )

    # --- disk --------------------------------------------------------------------------------------
    def _model_bytes(self) -> bytes:
        if self.family == "lgbm":
            assert self.booster is not None
            return str(self.booster.model_to_string()).encode("utf-8")
        assert self.scorecard is not None
        return json.dumps(self.scorecard.to_dict(), indent=1, allow_nan=False).encode("utf-8")

    def save(self, directory: str | Path) -> Path:
        """Write the bundle into ``directory`` (created; must be empty if it exists)."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        if any(path.iterdir()):
            raise BundleError(f"{path} is not empty")
        model_file = _MODEL_FILE[self.family]
        model_bytes = self._model_bytes()
        (path / model_file).write_bytes(model_bytes)
        manifest = {
            "format": BUNDLE_FORMAT,
            "family": self.family,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "features": list(self.encoding.features),
            "encoding": self.encoding.to_dict(),
            "monotone": {f: int(self.monotone.get(f, 0)) for f in self.encoding.features},
            "calibration": self.calibration.to_dict(),
            "scaling": self.scaling.to_dict(),
            "feature_registry_version": self.feature_registry_version,
            "training_data_hash": self.training_data_hash,
            "created_at": self.created_at,
            "metadata": dict(self.metadata),
            "files": {model_file: _sha256(model_bytes)},
        }
        manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False, allow_nan=False).encode("utf-8")
        (path / MANIFEST).write_bytes(manifest_bytes)
        (path / CHECKSUM).write_text(f"{_sha256(manifest_bytes)}  {MANIFEST}\n", encoding="ascii")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> ServingBundle:
        """Read and verify a bundle.

        Raises
        ------
        BundleIntegrityError
            A checksum does not match, a listed file is missing, an unlisted file is present, or
            the manifest cannot be read.
        """
        path = Path(directory)
        try:
            manifest_bytes = (path / MANIFEST).read_bytes()
            expected = (path / CHECKSUM).read_text(encoding="ascii").split()[0]
        except (OSError, IndexError, UnicodeDecodeError) as exc:
            raise BundleIntegrityError(f"{path}: manifest or its checksum unreadable") from exc
        if _sha256(manifest_bytes) != expected:
            raise BundleIntegrityError(f"{path}: manifest.json does not match manifest.sha256")
        try:
            manifest = json.loads(manifest_bytes)
            files: dict[str, str] = dict(manifest["files"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleIntegrityError(f"{path}: manifest unreadable") from exc
        if manifest.get("format") != BUNDLE_FORMAT:
            raise BundleIntegrityError(f"{path}: unknown bundle format {manifest.get('format')!r}")
        present = {p.name for p in path.iterdir()}
        extra = sorted(present - set(files) - {MANIFEST, CHECKSUM})
        if extra:
            raise BundleIntegrityError(f"{path}: unexpected files {extra}")
        blobs: dict[str, bytes] = {}
        for name, digest in files.items():
            if Path(name).name != name:
                raise BundleIntegrityError(f"{path}: file name {name!r} leaves the bundle")
            try:
                blobs[name] = (path / name).read_bytes()
            except OSError as exc:
                raise BundleIntegrityError(f"{path}: missing file {name}") from exc
            if _sha256(blobs[name]) != digest:
                raise BundleIntegrityError(f"{path}: checksum mismatch for {name}")
        family = manifest["family"]
        model_file = _MODEL_FILE.get(family)
        if model_file not in blobs:
            raise BundleIntegrityError(f"{path}: no model file for family {family!r}")
        booster = scorecard = None
        if family == "lgbm":
            booster = lgb.Booster(model_str=blobs[model_file].decode("utf-8"))
        else:
            scorecard = WoeLogit.from_dict(json.loads(blobs[model_file]))
        return cls(
            family=family,
            model_name=manifest["model_name"],
            model_version=manifest["model_version"],
            encoding=FeatureEncoding.from_dict(manifest["encoding"]),
            monotone={k: int(v) for k, v in manifest["monotone"].items()},
            calibration=PlattCalibration.from_dict(manifest["calibration"]),
            scaling=ScoreScaling.from_dict(manifest["scaling"]),
            feature_registry_version=manifest["feature_registry_version"],
            training_data_hash=manifest["training_data_hash"],
            created_at=manifest["created_at"],
            booster=booster,
            scorecard=scorecard,
            metadata=dict(manifest.get("metadata", {})),
        )

    # --- scoring -----------------------------------------------------------------------------------
    @property
    def features(self) -> tuple[str, ...]:
        """Model inputs in matrix column order."""
        return self.encoding.features

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode a data frame of raw feature values (vectorised; for batches)."""
        return self.encoding.transform(frame)

    def encode_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode plain mappings of raw feature values (fast for a single request)."""
        return self.encoding.transform_records(records)

    def _matrix(self, X: npt.ArrayLike) -> np.ndarray:
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != len(self.features):
            raise ValueError(f"expected shape (n, {len(self.features)}), got {arr.shape}")
        return arr

    def raw_logit(self, X: npt.ArrayLike) -> np.ndarray:
        """Uncalibrated log-odds of bad."""
        m = self._matrix(X)
        if self.booster is not None:
            return np.asarray(self.booster.predict(m, raw_score=True, num_threads=1), dtype=np.float64)
        assert self.scorecard is not None
        return self.scorecard.raw_logit(m)

    def predict_pd(self, X: npt.ArrayLike) -> np.ndarray:
        """Calibrated probability of default per row."""
        return sigmoid(self.calibration.transform(self.raw_logit(X)))

    def raw_contributions(self, X: npt.ArrayLike) -> np.ndarray:
        """Per-feature contributions to the raw log-odds of bad, shape (n, n_features + 1).

        TreeSHAP (``pred_contrib``) for lgbm, ``coef · WoE`` for the scorecard; the last column is
        the bias and each row sums to :meth:`raw_logit`. Positive values push towards default, so
        the largest ones are the principal reasons for a low score.
        """
        m = self._matrix(X)
        if self.booster is not None:
            return np.asarray(self.booster.predict(m, pred_contrib=True, num_threads=1), dtype=np.float64)
        assert self.scorecard is not None
        return self.scorecard.contributions(m)

    def points(self, X: npt.ArrayLike) -> np.ndarray:
        """Score points per feature, shape (n, n_features), summing to the unclipped score.

        For the scorecard these are its points-table entries. For lgbm they are the TreeSHAP
        contributions on the score scale (``−factor · slope · contribution``) with the bias spread
        evenly over the features — exact, because calibration is affine in the log-odds.
        """
        m = self._matrix(X)
        if self.scorecard is not None:
            return self.scorecard.points(m, self.calibration, self.scaling)
        contrib = self.raw_contributions(m)
        per_logit = -self.scaling.factor * self.calibration.slope
        base = self.scaling.offset - self.scaling.factor * (
            self.calibration.intercept + self.calibration.slope * contrib[:, -1]
        )
        return per_logit * contrib[:, :-1] + (base / (contrib.shape[1] - 1))[:, None]

    def points_table(self) -> pd.DataFrame:
        """The scorecard's points table (scorecard bundles only)."""
        if self.scorecard is None:
            raise BundleError("only a scorecard bundle has a points table")
        return self.scorecard.points_table(self.calibration, self.scaling)

    def score(self, pd_values: npt.ArrayLike, *, clip: bool = True) -> np.ndarray:
        """Person score of PDs under this bundle's scaling."""
        return score_from_pd(pd_values, self.scaling, clip=clip)
