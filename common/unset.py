"""`UNSET`: the value of a keyword a caller did not send, as opposed to one it sent as None (a PATCH that names a
field, even to clear it, changes it; one that leaves it out does not)."""


class Unset:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "UNSET"

    def __bool__(self):
        return False


UNSET = Unset()


def given(**values) -> dict:
    """The keywords that were sent: those not UNSET."""
    return {name: value for name, value in values.items() if value is not UNSET}
