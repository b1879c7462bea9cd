"""The serving bundle: a round trip gives the same numbers; any tampering is refused."""

import json
from pathlib import Path

import numpy as np
import pytest
from credit_sample import Sample

from models.binary import MonotonePdModel
from models.bundle import BundleError, BundleIntegrityError, ServingBundle, dataset_fingerprint
from models.scaling import ScoreScaling, score_from_pd
from models.scorecard import WoeScorecard


def _save(model: MonotonePdModel, train: Sample, directory: Path) -> Path:
    bundle = ServingBundle.from_estimator(
        model,
        model_name="person_pd",
        model_version="7",
        feature_registry_version="2026.11",
        training_data_hash=dataset_fingerprint(train.X, train.y),
    )
    return bundle.save(directory)


def test_round_trip_gives_identical_predictions(
    model: MonotonePdModel, train: Sample, test: Sample, tmp_path: Path
) -> None:
    loaded = ServingBundle.load(_save(model, train, tmp_path / "b"))
    matrix = loaded.encode(test.X)
    assert np.array_equal(matrix, model.transform_input(test.X), equal_nan=True)
    assert np.array_equal(loaded.predict_pd(matrix), model.predict_pd(test.X))
    few = matrix[:300]  # TreeSHAP costs ~1.5 ms per row
    assert np.array_equal(loaded.raw_contributions(few), model.contributions(few))
    one = loaded.encode_records(test.X.iloc[[3]].to_dict("records"))
    assert loaded.predict_pd(one)[0] == model.predict_pd(test.X)[3]
    assert np.array_equal(loaded.score(loaded.predict_pd(matrix)), score_from_pd(model.predict_pd(test.X)))


def test_manifest_describes_the_model(model: MonotonePdModel, train: Sample, tmp_path: Path) -> None:
    path = _save(model, train, tmp_path / "b")
    manifest = json.loads((path / "manifest.json").read_text())
    family = "scorecard" if isinstance(model, WoeScorecard) else "lgbm"
    assert manifest["family"] == family
    assert manifest["model_name"] == "person_pd" and manifest["model_version"] == "7"
    assert manifest["features"] == ["income", "arrears", "tenure", "wiggle", "noise", "segment"]
    assert manifest["monotone"] == {
        "income": 1,
        "arrears": -1,
        "tenure": 1,
        "wiggle": 0,
        "noise": 0,
        "segment": 0,
    }
    assert manifest["calibration"]["slope"] == model.calibration_params().slope
    assert manifest["scaling"] == ScoreScaling().to_dict()
    assert manifest["feature_registry_version"] == "2026.11"
    assert manifest["training_data_hash"] == dataset_fingerprint(train.X, train.y)
    assert set(manifest["files"]) == {"model.txt" if family == "lgbm" else "scorecard.json"}
    assert sorted(p.name for p in path.iterdir()) == sorted(
        ["manifest.json", "manifest.sha256", *manifest["files"]]
    )


def test_points_add_up_to_the_score(
    model: MonotonePdModel, train: Sample, test: Sample, tmp_path: Path
) -> None:
    loaded = ServingBundle.load(_save(model, train, tmp_path / "b"))
    matrix = loaded.encode(test.X.iloc[:100])
    unclipped = loaded.score(loaded.predict_pd(matrix), clip=False)
    assert np.allclose(loaded.points(matrix).sum(axis=1), unclipped, atol=1e-8)


def test_scorecard_bundle_keeps_the_points_table(
    scorecard: WoeScorecard, train: Sample, tmp_path: Path
) -> None:
    loaded = ServingBundle.load(_save(scorecard, train, tmp_path / "b"))
    assert loaded.points_table().equals(scorecard.points_table())


@pytest.mark.parametrize("victim", ["manifest.json", "manifest.sha256", "model"])
def test_tampering_with_any_file_is_refused(
    model: MonotonePdModel, train: Sample, tmp_path: Path, victim: str
) -> None:
    path = _save(model, train, tmp_path / "b")
    if victim == "model":
        victim = next(p.name for p in path.iterdir() if p.name not in {"manifest.json", "manifest.sha256"})
    target = path / victim
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # flip one bit in the middle
    target.write_bytes(bytes(data))
    with pytest.raises(BundleIntegrityError):
        ServingBundle.load(path)


def test_consistent_edit_of_manifest_still_needs_the_checksum(
    scorecard: WoeScorecard, train: Sample, tmp_path: Path
) -> None:
    path = _save(scorecard, train, tmp_path / "b")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["calibration"]["intercept"] -= 1.0  # everyone looks safer
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleIntegrityError, match=r"manifest\.sha256"):
        ServingBundle.load(path)


def test_missing_and_extra_files_are_refused(scorecard: WoeScorecard, train: Sample, tmp_path: Path) -> None:
    path = _save(scorecard, train, tmp_path / "missing")
    (path / "scorecard.json").unlink()
    with pytest.raises(BundleIntegrityError, match="missing file"):
        ServingBundle.load(path)
    path = _save(scorecard, train, tmp_path / "extra")
    (path / "notes.txt").write_text("hello")
    with pytest.raises(BundleIntegrityError, match="unexpected files"):
        ServingBundle.load(path)
    with pytest.raises(BundleIntegrityError):
        ServingBundle.load(tmp_path / "nowhere")


def test_save_refuses_a_non_empty_directory(scorecard: WoeScorecard, train: Sample, tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(BundleError, match="not empty"):
        _save(scorecard, train, tmp_path / "used")


def test_wrong_width_is_an_error(scorecard: WoeScorecard, train: Sample, tmp_path: Path) -> None:
    loaded = ServingBundle.load(_save(scorecard, train, tmp_path / "b"))
    with pytest.raises(ValueError, match="expected shape"):
        loaded.predict_pd(np.zeros((1, 3)))


def test_fingerprint_changes_with_the_data(train: Sample) -> None:
    changed = train.X.copy()
    changed.iloc[0, 0] = 123.0
    assert dataset_fingerprint(train.X, train.y) == dataset_fingerprint(train.X.copy(), train.y.copy())
    assert dataset_fingerprint(changed, train.y) != dataset_fingerprint(train.X, train.y)
    assert dataset_fingerprint(train.X, 1 - train.y) != dataset_fingerprint(train.X, train.y)
