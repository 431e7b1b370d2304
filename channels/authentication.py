from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; with TOKEN_TTL_HOURS set, a token older than that is refused (401) and deleted,
    and the user logs in again for a new one."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        ttl = settings.TOKEN_TTL_HOURS
        if ttl and token.created < timezone.now() - timedelta(hours=ttl):
            token.delete()
            raise exceptions.AuthenticationFailed("The token has expired; log in again.")
        return user, token
