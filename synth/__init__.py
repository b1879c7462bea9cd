"""The synthetic city: department files with a documented ground truth (docs/synthetic-city.md).

Outside the service's layers: it reads the record catalogue and identifier checks of
``features``; only the command line (``credit synth``) imports it.
"""

from synth.city import CHUNK, CityConfig, CitySummary, generate_city
from synth.timeline import Timeline, TimelineError

__all__ = ["CHUNK", "CityConfig", "CitySummary", "Timeline", "TimelineError", "generate_city"]
