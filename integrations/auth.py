"""Who is calling: a person (token or session) or a service client (an API key), and what each may do.

A request with `Authorization: Api-Key <key>` is authenticated as the client behind the key; its
`request.user` is a `ServicePrincipal` (never a site account) and `request.auth` the `ServiceClient`.
Endpoints that act for the signed-in person require `IsPerson` (the API's default), the service
endpoints `scope("ingest")` and the like. The key itself is never logged or stored, only its hash.
"""

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework_api_key.permissions import KeyParser

from .models import SCOPES, ServiceClient


class ServicePrincipal:
    """`request.user` for a service client: authenticated, not staff, not a site account."""

    is_authenticated, is_anonymous, is_active, is_staff, is_superuser = True, False, True, False, False

    def __init__(self, client: ServiceClient):
        self.client = client
        self.pk = self.id = f"client:{client.prefix}"  # DRF's per-user throttle keys on this
        self.username = f"client {client.prefix}"

    def __str__(self) -> str:
        return self.username

    def get_username(self) -> str:
        return self.username


class ServiceKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`: the service client whose key it is (not revoked, not expired)."""

    keyword = KeyParser.keyword

    def authenticate(self, request):
        key = KeyParser().get_from_authorization(request)
        if key is None:
            return None
        try:
            client = ServiceClient.objects.get_from_key(key.strip())
        except ServiceClient.DoesNotExist:
            raise AuthenticationFailed("Unknown or revoked API key.") from None
        if client.has_expired:
            raise AuthenticationFailed("This API key has expired.")
        return ServicePrincipal(client), client

    def authenticate_header(self, request) -> str:
        return self.keyword


def is_service(request) -> bool:
    return isinstance(getattr(request, "auth", None), ServiceClient)


class IsPerson(BasePermission):
    """A signed-in person (token or session). A service key cannot act as the signed-in user."""

    message = "This endpoint acts for a signed-in person; a service client's API key cannot use it."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and not is_service(request))


def scope(name: str) -> type[BasePermission]:
    """A permission class: a service client whose key has this scope."""
    if name not in SCOPES:
        raise ValueError(f"unknown scope {name!r}")

    class HasScope(BasePermission):
        message = f"This endpoint needs a service client's API key with the '{name}' scope."
        required_scope = name

        def has_permission(self, request, view) -> bool:
            return is_service(request) and request.auth.allows(name)

    HasScope.__name__ = HasScope.__qualname__ = f"HasScope_{name}"
    return HasScope
