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
