"""Feature tests share the frame builders in ``feature_frames.py`` (importlib import mode does not
put test folders on ``sys.path``, so this folder is added here)."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
