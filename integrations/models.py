from django.core.exceptions import ValidationError
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

# What a service client may do. ingest: send and delete catalog items, users and interactions;
# recommend: ask for feeds, similar, popular and trending items; read: read users, items and
# interactions back by external id (an export).
SCOPES = {
    "ingest": "Send and delete items, users and interactions",
    "recommend": "Ask for recommendations",
    "read": "Read users, items and interactions back",
}


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not all(isinstance(scope, str) for scope in value):
        raise ValidationError("Scopes are a list of names.")
    unknown = sorted(set(value) - set(SCOPES))
    if unknown:
        raise ValidationError(f"Unknown scope {unknown[0]!r}; expected some of {', '.join(SCOPES)}.")


class ServiceClient(AbstractAPIKey):
    """A backend that integrates through the API: its key (shown once, stored as a SHA-512 hash) and its scopes.

    Not a user account: a key acts for the client's own users by external id, never signs in to the
    site, and is refused by the endpoints that act for the signed-in person (`/api/v1/me/`, ...).
    """

    scopes = models.JSONField(default=list, blank=True, validators=[validate_scopes])

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "service client"
        verbose_name_plural = "service clients"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes
