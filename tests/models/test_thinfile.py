import numpy as np

from models.thinfile import INSUFFICIENT_RECORD, thin_file_mask


def test_thin_file_rule() -> None:
    counts = [0, 2, 3, 3, 10, np.nan, 5]
    tenure = [0, 24, 5, 6, 120, 24, np.nan]
    assert thin_file_mask(counts, tenure).tolist() == [True, True, True, False, False, True, True]


def test_thresholds_are_parameters() -> None:
    assert thin_file_mask([1], [1], min_records=1, min_tenure=1).tolist() == [False]
    assert INSUFFICIENT_RECORD == "insufficient_record"
