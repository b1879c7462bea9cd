"""JSON logs, one object per line, each with the request id of the request it belongs to.

``configure_logging`` puts one JSON handler on the root logger (``credit serve`` calls it; tests
may point it at a buffer). Messages and tracebacks pass through ``mask_id_numbers`` as a last
line of defence: code must not log personal data in the first place (log pseudonyms and ids).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
from typing import IO, Any

from features.fieldtypes import mask_id_numbers

__all__ = ["REQUEST_ID", "JsonFormatter", "configure_logging"]

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_MARK = "_credit_json_handler"


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_id_numbers(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update({k: v for k, v in fields.items() if k not in out})
        if record.exc_info:
            out["exception"] = mask_id_numbers(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO, stream: IO[str] | None = None) -> logging.Handler:
    """Log JSON lines to ``stream`` (default stderr) from the root logger, replacing its handlers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_RequestIdFilter())
    setattr(handler, _MARK, True)
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _MARK, False) or type(h) is logging.StreamHandler:
            root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    return handler
