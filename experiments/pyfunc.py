"""An MLflow pyfunc around the serving bundle, so ``mlflow models serve`` can serve a version.

The bundle itself (``models.bundle``) is what the service loads; this wrapper only exists for
MLflow's own tooling. It returns the calibrated PD and the person-scale score.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.pyfunc import PythonModel

from models.bundle import ServingBundle

__all__ = ["BundlePyfunc"]


class BundlePyfunc(PythonModel):
    def load_context(self, context: Any) -> None:
        self.bundle = ServingBundle.load(context.artifacts["bundle"])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        X = self.bundle.encode(model_input)
        pd_values = self.bundle.predict_pd(X)
        return pd.DataFrame({"pd": pd_values, "score": self.bundle.score(pd_values)})
