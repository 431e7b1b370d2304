from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.db.models import ProtectedError
from rest_framework.authtoken.models import Token

from channels.models import Channel
from omnitron.errors import ApplicationError

User = get_user_model()


def user_login(*, username: str, password: str) -> Token:
    user = authenticate(username=username, password=password)
    if user is None:
        raise ApplicationError("Unable to log in with the given credentials.", code="invalid_credentials")
    token, _ = Token.objects.get_or_create(user=user)
    return token


@transaction.atomic
def user_create(*, username: str, password: str, is_staff: bool = False, channels=()) -> User:
    user = User(username=username, is_staff=is_staff)
    user.set_password(password)
    user.save()
    user.channels.set(channels)
    return user


@transaction.atomic
def user_update(*, user: User, data: dict) -> User:
    password = data.pop("password", None)
    channels = data.pop("channels", None)
    for field, value in data.items():
        setattr(user, field, value)
    if password is not None:
        user.set_password(password)
        # A new password ends every session: the old token stops working.
        Token.objects.filter(user=user).delete()
    user.save()
    if channels is not None:
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
