class ApplicationError(Exception):
    """A business rule refused the request. Turned into a 400 carrying `code` by the API exception handler."""

    status_code = 400

    def __init__(self, message: str, *, code: str, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The request was valid, but the state it was made against has changed: 409 with its `code`."""

    status_code = 409
