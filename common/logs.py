"""Logging pieces named by settings.LOGGING: the request id on every record, one JSON object per line
(LOG_FORMAT=json), and the development server's access lines without the errors Django already logged."""

import json
import logging
from datetime import UTC, datetime

from common.request_id import get_request_id


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or "-") on the record as `request_id`; filters nothing out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = get_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, and `exception` (the
    formatted traceback) when the record carries one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or get_request_id(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class SkipLoggedErrorsFilter(logging.Filter):
    """For `django.server` (runserver's access lines): drops the lines of 4xx and 5xx answers, which `django.request`
    has already logged with their reason and request id. Without it every 4xx shows up twice."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        return not (isinstance(status, int) and status >= 400)
