"""The thin-file rule: who is too new to the records to be scored.

A model trained on people with rich credit files says little about someone with one record last
month: the features are mostly "nothing happened", which the model reads as good news. Such a
person is therefore **not scored by the model**. Callers give them the explicit state
:data:`INSUFFICIENT_RECORD` (信用记录不足, "insufficient record") instead of a number, never a
default or imputed score, and neither the model's training set nor its monitoring includes them.

Rule (:func:`thin_file_mask`): a subject is thin-file when, at the scoring date,

* they have fewer than ``min_records`` records in their credit file (default **3**), **or**
* their file is younger than ``min_tenure_months`` (months since their first record; default **6**),
* or either count is unknown (missing).

The defaults ask for some history (three reported events) over some time (half a year, long
enough to see at least two quarterly tax or social-security cycles); they are parameters so a
policy change needs no code change, and the values in force are recorded with each model.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_MIN_RECORDS", "DEFAULT_MIN_TENURE_MONTHS", "INSUFFICIENT_RECORD", "thin_file_mask"]

INSUFFICIENT_RECORD = "insufficient_record"
DEFAULT_MIN_RECORDS = 3
DEFAULT_MIN_TENURE_MONTHS = 6


def thin_file_mask(
    record_count: npt.ArrayLike,
    tenure_months: npt.ArrayLike,
    min_records: int = DEFAULT_MIN_RECORDS,
    min_tenure: float = DEFAULT_MIN_TENURE_MONTHS,
) -> np.ndarray:
    """True where a subject is thin-file and must not be scored.

    Parameters
    ----------
    record_count : array-like of int or float
        Records in the subject's file at the scoring date (NaN = unknown).
    tenure_months : array-like of float
        Months since the subject's first record (NaN = unknown, e.g. no record at all).
    min_records : int, default 3
    min_tenure : float, default 6

    Returns
    -------
    numpy.ndarray of bool
        ``record_count < min_records or tenure_months < min_tenure or either is missing``.

    Examples
    --------
    >>> thin_file_mask([0, 5, 5, 3], [12, 2, 24, 6]).tolist()
    [True, True, False, False]
    """
    counts = np.asarray(record_count, dtype=np.float64)
    tenure = np.asarray(tenure_months, dtype=np.float64)
    if counts.shape != tenure.shape:
        raise ValueError("record_count and tenure_months must have the same shape")
    with np.errstate(invalid="ignore"):
        enough = (counts >= min_records) & (tenure >= min_tenure)
    return np.asarray(~enough, dtype=bool)
