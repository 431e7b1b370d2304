"""Which model each sync content type names, and how to tell that an object belongs to a channel.

The channels app sits below the apps whose objects it tracks (orders, cancellations), so it cannot import their
models. Each of those apps registers its content types from its `AppConfig.ready()`; the channels app then reaches
the model through `django.apps.apps.get_model` and the registered lookup path, never through an import.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps

from channels.models import SyncContentType


@dataclass(frozen=True)
class SyncContentTypeEntry:
    name: str
    model_label: str
    # The ORM path from the model to its channel's id (`order__channel_id`); None for objects every channel
    # shares (products), which only have to exist.
    channel_lookup: str | None


_registry: dict[str, SyncContentTypeEntry] = {}


def register_sync_content_type(*, name: str, model_label: str, channel_lookup: str | None) -> None:
    if name not in SyncContentType.values:
        raise ValueError(f"{name!r} is not a sync content type ({', '.join(SyncContentType.values)}).")
    _registry[name] = SyncContentTypeEntry(name=name, model_label=model_label, channel_lookup=channel_lookup)


def sync_content_type_is_known(name: str) -> bool:
    return name in _registry


def sync_object_versions(*, channel_id: int, content_type: str, object_ids: Iterable[int]) -> dict[int, datetime]:
    """`{id: modified_date}` of those of the objects that exist and belong to the channel; one query."""
    entry = _registry[content_type]
    model = apps.get_model(entry.model_label)
    objects = model._default_manager.filter(pk__in=set(object_ids))
    if entry.channel_lookup is not None:
        objects = objects.filter(**{entry.channel_lookup: channel_id})
    return dict(objects.order_by().values_list("pk", "modified_date"))
