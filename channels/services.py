import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import reduce

from django.contrib.auth import authenticate, get_user_model
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled

from channels.models import BatchRequest, BatchRequestStatus, Channel, IntegrationAction
from channels.sync import sync_content_type_is_known, sync_object_versions
from channels.throttle import client_address, login_retry_after, login_succeeded
from common.errors import ApplicationError
from common.unset import UNSET, Unset, given

User = get_user_model()


def user_login(*, username: str, password: str, request=None) -> Token:
    """A token for the user, or 400 `invalid_credentials`; 429 while the username or the client address has failed
    too often (channels.throttle)."""
    wait = login_retry_after(username=username, address=client_address(request))
    if wait:
        raise Throttled(wait=wait, detail="Too many failed logins. Try again later.")
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise ApplicationError("Unable to log in with the given credentials.", code="invalid_credentials")
    login_succeeded(username=username)
    token, _ = Token.objects.get_or_create(user=user)
    return token


def user_logout(*, token: Token) -> None:
    """The token stops working at once; the user logs in again for a new one."""
    token.delete()


@transaction.atomic
def user_create(*, username: str, password: str, is_staff: bool = False, channels=()) -> User:
    user = User(username=username, is_staff=is_staff)
    user.set_password(password)
    user.save()
    user.channels.set(channels)
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    username: str | Unset = UNSET,
    is_staff: bool | Unset = UNSET,
    is_superuser: bool | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    password: str | Unset = UNSET,
    channels: Iterable[Channel] | Unset = UNSET,
) -> User:
    """Change what is given; a new password also ends every session of the user."""
    flags = given(username=username, is_staff=is_staff, is_superuser=is_superuser, is_active=is_active)
    for field, value in flags.items():
        setattr(user, field, value)
    if password is not UNSET:
        user.set_password(password)
        # A new password ends every session: the old token stops working.
        Token.objects.filter(user=user).delete()
    user.save()
    if channels is not UNSET:
        user.channels.set(channels)
    return user


def user_delete(*, user: User, actor: User) -> None:
    if user.pk == actor.pk:
        raise ApplicationError("You cannot delete your own user.", code="cannot_delete_self")
    user.delete()


def channel_delete(*, channel: Channel) -> None:
    try:
        channel.delete()
    except ProtectedError:
        raise ApplicationError(
            "This channel has orders or customers and cannot be deleted; set is_active to false instead.",
            code="channel_in_use",
        ) from None


# Omnitron sync: integration actions and batch requests.
#
# Locks: a batch request transition locks the batch request row, then upserts integration actions (row locks taken
# by the database's ON CONFLICT, in (content_type, object_id) order). Order intake records its actions after it has
# written the order and its items. Nothing here locks orders or items, so no cycle with the order lock order.


@dataclass(frozen=True)
class IntegrationActionRecord:
    content_type: str
    object_id: int
    remote_id: str | None
    version_date: datetime | None


def integration_actions_record(*, channel_id: int, records: Iterable[IntegrationActionRecord]) -> None:
    """Upsert the channel's integration actions of the given objects: `version_date` as given (null marks the object
    to be sent again), `remote_id` only when given (a null never wipes a known remote id). The last record of an
    object wins.

    A few statements whatever the number of objects (more only where the database's parameter limit splits them
    into batches). The upsert takes every row lock, in
    (content_type, object_id) order so concurrent commits of the same objects cannot deadlock; the remote ids are
    then read and set on rows this transaction already holds.
    """
    latest = {(record.content_type, record.object_id): record for record in records}
    ordered = [latest[key] for key in sorted(latest)]
    if not ordered:
        return
    IntegrationAction.objects.bulk_create(
        [
            IntegrationAction(
                channel_id=channel_id,
                content_type=record.content_type,
                object_id=record.object_id,
                remote_id=record.remote_id,
                version_date=record.version_date,
            )
            for record in ordered
        ],
        update_conflicts=True,
        unique_fields=["channel", "content_type", "object_id"],
        update_fields=["version_date", "modified_date"],
    )
    remote_ids = {(r.content_type, r.object_id): r.remote_id for r in ordered if r.remote_id is not None}
    if remote_ids:
        rows = IntegrationAction.objects.filter(_objects_q(remote_ids), channel_id=channel_id).only(
            "id", "content_type", "object_id", "remote_id"
        )
        changed = [row for row in rows if row.remote_id != remote_ids[(row.content_type, row.object_id)]]
        for row in changed:
            row.remote_id = remote_ids[(row.content_type, row.object_id)]
        IntegrationAction.objects.bulk_update(changed, ["remote_id"])


def _objects_q(objects: Iterable[tuple[str, int]]) -> Q:
    """`(content_type, object_id)` pairs as one condition per content type (a flat OR of pairs would nest too deep
    for SQLite's parser at a few thousand objects)."""
    by_type: dict[str, set[int]] = {}
    for content_type, object_id in objects:
        by_type.setdefault(content_type, set()).add(object_id)
    return reduce(
        operator.or_,
        (Q(content_type=content_type, object_id__in=object_ids) for content_type, object_ids in by_type.items()),
        Q(pk__in=[]),
    )


def integration_action_record(
    *, channel: Channel, content_type: str, object_id: int, remote_id: str | None, version_date: datetime | None
) -> IntegrationAction:
    """Upsert one integration action (see integration_actions_record)."""
    with transaction.atomic():
        integration_actions_record(
            channel_id=channel.pk,
            records=[IntegrationActionRecord(content_type, object_id, remote_id, version_date)],
        )
        return IntegrationAction.objects.get(channel=channel, content_type=content_type, object_id=object_id)


def _objects_not_in_channel(*, channel_id: int, objects: Iterable[tuple[str, int]]) -> tuple[list, dict]:
    """Split `(content_type, object_id)` pairs into those that are unknown (the content type is not tracked, the
    object does not exist or belongs to another channel) and the `modified_date` of the others. One query per
    content type."""
    by_type: dict[str, set[int]] = {}
    for content_type, object_id in objects:
        by_type.setdefault(content_type, set()).add(object_id)
    invalid, versions = [], {}
    for content_type, object_ids in sorted(by_type.items()):
        if not sync_content_type_is_known(content_type):
            invalid.extend((content_type, object_id) for object_id in sorted(object_ids))
            continue
        found = sync_object_versions(channel_id=channel_id, content_type=content_type, object_ids=object_ids)
        invalid.extend((content_type, object_id) for object_id in sorted(object_ids - found.keys()))
        versions.update({(content_type, object_id): modified for object_id, modified in found.items()})
    return invalid, versions


def integration_action_create(
    *,
    channel: Channel,
    content_type: str,
    object_id: int,
    remote_id: str | None = None,
    version_date: datetime | None = None,
    state: dict | None = None,
) -> IntegrationAction:
    invalid, _ = _objects_not_in_channel(channel_id=channel.pk, objects=[(content_type, object_id)])
    if invalid:
        raise ApplicationError(
            f"There is no {content_type} {object_id} in this channel.", code="object_not_in_channel", field="object_id"
        )
    duplicate = ApplicationError(
        f"This channel already has an integration action for {content_type} {object_id}; update that one.",
        code="integration_action_exists",
        field="object_id",
    )
    identity = {"channel": channel, "content_type": content_type, "object_id": object_id}
    if IntegrationAction.objects.filter(**identity).exists():
        raise duplicate
    try:
        with transaction.atomic():
            return IntegrationAction.objects.create(
                **identity, remote_id=remote_id, version_date=version_date, state=state or {}
            )
    except IntegrityError:
        # Another request created it between the check and the insert.
        if IntegrationAction.objects.filter(**identity).exists():
            raise duplicate from None
        raise


def integration_action_update(
    *,
    action_id: int,
    remote_id: str | Unset | None = UNSET,
    version_date: datetime | Unset | None = UNSET,
    state: dict | Unset = UNSET,
) -> IntegrationAction:
    """Change `remote_id`, `version_date` and `state`, those of them given; what an action is about (its channel,
    content type and object) never changes."""
    changes = given(remote_id=remote_id, version_date=version_date, state=state)
    with transaction.atomic():
        action = IntegrationAction.objects.select_for_update().get(pk=action_id)
        for field, value in changes.items():
            setattr(action, field, value)
        if changes:
            action.save(update_fields=[*changes, "modified_date"])
    return action


def integration_actions_mark_unsent(*, channel_id: int, objects: Iterable[tuple[str, int]]) -> int:
    """Clear the `version_date` of the channel's actions of these objects, so the feeds offer them again. Objects
    without an action are offered anyway. Returns how many actions changed."""
    objects = list(objects)
    if not objects:
        return 0
    return (
        IntegrationAction.objects.filter(_objects_q(objects), channel_id=channel_id)
        .exclude(version_date=None)
        .update(version_date=None, modified_date=timezone.now())
    )


def batch_request_create(*, channel: Channel, content_type: str = "") -> BatchRequest:
    return BatchRequest.objects.create(channel=channel, content_type=content_type)


def _require_transition(current: str, target: str) -> None:
    if BatchRequestStatus.is_final(current):
        raise ApplicationError(
            f'The batch request is final ("{current}"); it cannot move to "{target}".',
            code="batch_transition_invalid",
            field="status",
        )
    if BatchRequestStatus.rank(target) < BatchRequestStatus.rank(current):
        raise ApplicationError(
            f'A batch request moves forward only: "{current}" cannot go back to "{target}".',
            code="batch_transition_invalid",
            field="status",
        )


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _batch_objects_merge(stored: list[dict], objects: list[dict]) -> list[dict]:
    """The batch's objects: every object any call listed, the latest entry of each (content_type, pk) kept."""
    merged = {(entry["content_type"], entry["pk"]): entry for entry in stored}
    for entry in objects:
        version_date = entry.get("version_date")
        merged[(entry["content_type"], entry["pk"])] = {
            "pk": entry["pk"],
            "content_type": entry["content_type"],
            "version_date": _iso_utc(version_date) if version_date is not None else None,
            "remote_id": entry.get("remote_id"),
            "failed_reason_type": entry.get("failed_reason_type"),
        }
    return list(merged.values())


def batch_request_transition(
    *,
    batch_request_id: int,
    status: str | None = None,
    objects: list[dict] | None = None,
    remote_batch_id: str | None = None,
    content_type: str | None = None,
) -> BatchRequest:
    """Move a batch request along initialized -> commit -> sent_to_remote -> ongoing -> done | fail.

    Steps may be skipped; the current status again (or none) changes only the other fields, and only while the
    batch is not final. `None` means "no change" for every argument: channel-app sends `objects: null` on fail.

    `objects` (`[{"pk", "content_type", "version_date", "remote_id", "failed_reason_type"}]`) and the status decide
    what the channel is taken to have received:
    - commit: each object's integration action gets `version_date` (the one sent, else the object's current
      `modified_date`) and its `remote_id` when one is sent; an object sent with a `failed_reason_type` gets a null
      `version_date` instead, so it is offered again. Every object must be of this channel, else nothing is written.
    - done: objects sent with a `failed_reason_type` are offered again (their `version_date` cleared).
    - fail: every object the batch ever listed (now or in earlier calls) is offered again.

    Objects sent with done or fail may name objects deleted since the commit (a withdrawn cancellation request):
    only their content type is checked, and clearing touches this channel's actions only.
    """
    with transaction.atomic():
        batch = BatchRequest.objects.select_for_update().get(pk=batch_request_id)
        status = status or batch.status
        _require_transition(batch.status, status)
        pairs = [(entry["content_type"], entry["pk"]) for entry in objects or ()]
        if status == BatchRequestStatus.COMMIT:
            invalid, versions = _objects_not_in_channel(channel_id=batch.channel_id, objects=pairs)
        else:
            invalid = [(ct, pk) for ct, pk in pairs if not sync_content_type_is_known(ct)]
        if invalid:
            named = ", ".join(f"{ct} {pk}" for ct, pk in invalid[:20]) + (" ..." if len(invalid) > 20 else "")
            raise ApplicationError(
                f"Objects that are unknown or not of this channel: {named}.",
                code="batch_objects_invalid",
                field="objects",
                extra={"invalid_objects": [{"content_type": ct, "pk": pk} for ct, pk in invalid]},
            )

        changed = []
        if status != batch.status:
            batch.status = status
            changed.append("status")
        if content_type is not None:
            batch.content_type = content_type
            changed.append("content_type")
        if remote_batch_id is not None:
            batch.remote_batch_id = remote_batch_id
            changed.append("remote_batch_id")
        if objects is not None:
            batch.batch_objects = _batch_objects_merge(batch.batch_objects, objects)
            changed.append("batch_objects")
        batch.save(update_fields=[*changed, "modified_date"])

        if status == BatchRequestStatus.COMMIT and objects:
            integration_actions_record(
                channel_id=batch.channel_id,
                records=[
                    IntegrationActionRecord(
                        content_type=entry["content_type"],
                        object_id=entry["pk"],
                        remote_id=entry.get("remote_id"),
                        version_date=None
                        if entry.get("failed_reason_type")
                        else entry.get("version_date") or versions[(entry["content_type"], entry["pk"])],
                    )
                    for entry in objects
                ],
            )
        elif status == BatchRequestStatus.DONE and objects:
            failed = [(entry["content_type"], entry["pk"]) for entry in objects if entry.get("failed_reason_type")]
            integration_actions_mark_unsent(channel_id=batch.channel_id, objects=failed)
        elif status == BatchRequestStatus.FAIL:
            integration_actions_mark_unsent(
                channel_id=batch.channel_id,
                objects=[(entry["content_type"], entry["pk"]) for entry in batch.batch_objects],
            )
    return batch
