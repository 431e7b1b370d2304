"""The keys of `Channel.conf` this app reads, checked when a channel is saved."""

from django.core.exceptions import ValidationError

from cancellations.strategies import STRATEGIES


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def validate_channel_conf(conf: dict) -> None:
    errors = []
    name = conf.get("cancellation_strategy")
    if name is not None and name not in STRATEGIES:
        errors.append(f"Unknown cancellation_strategy {name!r}; choose one of: {', '.join(sorted(STRATEGIES))}.")
    easy_return = conf.get("easy_return")
    if easy_return is not None:
        if not isinstance(easy_return, dict):
            errors.append("easy_return must be an object: {shipping_company, valid_days, max_count}.")
        else:
            company = easy_return.get("shipping_company")
            if not isinstance(company, str) or not company.strip() or len(company) > 64:
                errors.append("easy_return.shipping_company must be a carrier name (at most 64 characters).")
            for key in ("valid_days", "max_count"):
                if key in easy_return and not _positive_int(easy_return[key]):
                    errors.append(f"easy_return.{key} must be a whole number of at least 1.")
    if errors:
        raise ValidationError(errors)
