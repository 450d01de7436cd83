"""API tokens that expire (API_TOKEN_TTL_DAYS) and can be revoked: issuing, revoking, authenticating."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_expired(token: Token) -> bool:
    """Whether the token is older than API_TOKEN_TTL_DAYS (never, when that is 0)."""
    ttl = settings.API_TOKEN_TTL_DAYS
    return bool(ttl) and timezone.now() - token.created > dt.timedelta(days=ttl)


@transaction.atomic
def token_issue(*, user) -> Token:
    """The user's current token, or a new one when there is none or it has expired."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def token_revoke(*, user) -> int:
    """Delete the user's token (signing out every client that used it); how many were deleted."""
    return Token.objects.filter(user=user).delete()[0]


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens older than API_TOKEN_TTL_DAYS."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise AuthenticationFailed("Token has expired; ask for a new one at /api/auth/token/.")
        return user, token
