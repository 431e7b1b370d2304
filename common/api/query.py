"""Query parameters a list reads, held to what the schema says they are.

Left alone, django-filter and the paginator read `?status=` as "no filter" and `?page=1&page=2` as its last value:
a client's mistake would come back as a page of results (and an unfiltered one). A parameter the list knows, given
twice or given empty where its schema has no empty value, is a 400 naming it instead.
"""

from collections.abc import Iterable

from rest_framework.exceptions import ValidationError

REPEATED = "Give this parameter once."
EMPTY = "A value is required; leave the parameter out for no filter."


def refuse_repeated_or_empty(
    query_params, names: Iterable[str], *, may_repeat: frozenset[str] = frozenset(), may_be_empty=frozenset()
) -> None:
    """400 for each of `names` given more than once (unless in `may_repeat`) or given empty (unless in
    `may_be_empty`); parameters the list does not know are not looked at."""
    errors = {}
    for name in names:
        values = query_params.getlist(name)
        if len(values) > 1 and name not in may_repeat:
            errors[name] = [REPEATED]
        elif "" in values and name not in may_be_empty:
            errors[name] = [EMPTY]
    if errors:
        raise ValidationError(errors)
