"""Validation of `Channel.conf`.

Apps that read a key of the channel conf register a validator for it at start-up, so the channels app can refuse
an unknown value when a channel is saved without importing the apps that use it.
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError

ConfValidator = Callable[[dict], None]
_validators: list[ConfValidator] = []
# (section, key) of `conf[section][key]` values that are written but never shown: credentials of an integration.
_write_only_keys: set[tuple[str, str]] = set()


def register_conf_validator(validator: ConfValidator) -> None:
    if validator not in _validators:
        _validators.append(validator)


def register_write_only_conf_key(section: str, key: str) -> None:
    _write_only_keys.add((section, key))


def conf_for_response(conf) -> dict:
    """The conf as the API and the admin show it to staff: write-only values (`conf[section][key]`) left out, with
    `<key>_set: true` in their place so one can tell a credential is there."""
    shown = dict(conf or {})
    for section, key in _write_only_keys:
        if isinstance(shown.get(section), dict) and key in shown[section]:
            shown[section] = {k: v for k, v in shown[section].items() if k != key}
            shown[section][f"{key}_set"] = True
    return shown


def conf_keep_write_only(new: dict, old: dict | None) -> dict:
    """A conf sent back as it was shown (without its write-only values) keeps the stored ones: a section that does
    not send a write-only key keeps the old value of it."""
    if not isinstance(new, dict):
        return new
    kept = dict(new)
    for section, key in _write_only_keys:
        if not isinstance(kept.get(section), dict):
            continue
        kept[section] = {k: v for k, v in kept[section].items() if k != f"{key}_set"}
        stored = old.get(section) if isinstance(old, dict) else None
        if key not in kept[section] and isinstance(stored, dict) and stored.get(key) is not None:
            kept[section][key] = stored[key]
    return kept


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
    """The conf as a channel's own integration may read it: keys that look like credentials left out, at any depth
    (`storefront.access_token` too)."""
    return {
        key: conf_without_secrets(value) if isinstance(value, dict) else value
        for key, value in (conf or {}).items()
        if not any(marker in key.lower() for marker in SECRET_CONF_MARKERS)
    }
