"""The API schema: every operation also documents the errors it can answer with, and their bodies."""

from types import SimpleNamespace

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words.")


# A 400 names each field it refuses (or `non_field_errors`), as DRF and `catalog.api.exceptions` answer;
# a body that is not valid JSON at all is refused with a `detail`.
VALIDATION_ERROR = {
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"k": ["Ensure this value is less than or equal to 100."]},
        },
        {"$ref": "#/components/schemas/Error"},
    ]
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the 400 / 401 / 403 / 404 / 413 / 429 answers each operation can give."""

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            bodies.setdefault(code, self._get_response_for_code(response, code, direction=direction))
        return bodies

    def _error_responses(self) -> dict[str, OpenApiResponse]:
        view, writes = self.view, self.method in ("POST", "PUT", "PATCH")
        out = {}
        if writes or any(p["in"] == "query" for p in self._get_parameters()):
            out["400"] = OpenApiResponse(VALIDATION_ERROR, "Invalid input: the body names each refused field.")
        authenticators = view.get_authenticators()
        if authenticators:
            out["401"] = OpenApiResponse(ErrorSerializer, "Not signed in, or the token is invalid or has expired.")
        if self._forbids(authenticators):
            out["403"] = OpenApiResponse(ErrorSerializer, "Signed in, but not allowed to do this.")
        if "{" in self.path:
            out["404"] = OpenApiResponse(ErrorSerializer, "No such object (or not one you may see).")
        elif self._is_list_view() and self._get_paginator():
            out["404"] = OpenApiResponse(ErrorSerializer, "No such page (`page` past the last one, or below 1).")
        if writes:
            out["413"] = OpenApiResponse(ErrorSerializer, "The body is larger than the server accepts.")
        if view.get_throttles():
            out["429"] = OpenApiResponse(
                ErrorSerializer, "Too many requests: retry after the seconds given in the Retry-After header."
            )
        return out

    def _forbids(self, authenticators) -> bool:
        """Whether an authenticated caller can be refused here: a signed-in non-staff person, or a service
        client's key where the endpoint acts for a person (a permission), or a session's CSRF check."""
        from integrations.auth import ServiceKeyAuthentication  # the app registry is ready by now
        from integrations.models import ServiceClient

        user = SimpleNamespace(is_authenticated=True, is_staff=False)
        callers = [SimpleNamespace(method=self.method, user=user, auth=None)]
        if any(isinstance(a, ServiceKeyAuthentication) for a in authenticators):
            callers.append(SimpleNamespace(method=self.method, user=user, auth=ServiceClient(scopes=[])))
        permissions = self.view.get_permissions()
        refused = any(not p.has_permission(caller, self.view) for caller in callers for p in permissions)
        unsafe = self.method not in SAFE_METHODS  # a session-authenticated unsafe request needs its CSRF token
        return refused or (unsafe and any(isinstance(a, SessionAuthentication) for a in authenticators))


def only_v1(endpoints, **kwargs):
    """drf-spectacular hook: the schema documents the /api/v1/ paths (the /api/ aliases are the same)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
