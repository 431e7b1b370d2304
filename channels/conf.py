"""Validation of `Channel.conf`.

Apps that read a key of the channel conf register a validator for it at start-up, so the channels app can refuse
an unknown value when a channel is saved without importing the apps that use it.
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError

ConfValidator = Callable[[dict], None]
_validators: list[ConfValidator] = []


def register_conf_validator(validator: ConfValidator) -> None:
    if validator not in _validators:
        _validators.append(validator)


def validate_conf(conf) -> None:
    """Raise ValidationError (keyed `conf`) when the conf is not an object or a registered validator refuses it."""
    if not isinstance(conf, dict):
        raise ValidationError({"conf": ["A JSON object is required."]})
    messages = []
    for validator in _validators:
        try:
            validator(conf)
        except ValidationError as exc:
            messages.extend(exc.messages)
    if messages:
        raise ValidationError({"conf": messages})


SECRET_CONF_MARKERS = ("secret", "password", "token", "api_key", "credential")


def conf_without_secrets(conf) -> dict:
    """The conf as a channel's own integration may read it: keys that look like credentials left out."""
    return {
        key: value
        for key, value in (conf or {}).items()
        if not any(marker in key.lower() for marker in SECRET_CONF_MARKERS)
    }
