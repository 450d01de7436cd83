"""The signed-in user's own profile (GET / PUT / PATCH /api/me/), API tokens (/api/auth/token/) and
sign-up for apps (POST /api/auth/signup/)."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.settings import api_settings

from integrations.auth import IsPerson

from .selectors import profile_for_user
from .serializers import ProfileSerializer, SignupSerializer
from .services import profile_ensure, profile_update, user_signup
from .throttles import LOGIN_THROTTLES, SignupIPThrottle
from .tokens import token_issue, token_revoke


class TokenSerializer(serializers.Serializer):
    username = serializers.CharField()
    token = serializers.CharField()


class MeView(GenericAPIView):
    permission_classes = [IsPerson]
    serializer_class = ProfileSerializer

    def get_object(self):
        """The caller's own profile (also what OPTIONS describes, so no queryset is needed)."""
        profile_ensure(user=self.request.user)  # users made before the profile signal existed
        return profile_for_user(user=self.request.user)

    @extend_schema(summary="My profile")
    def get(self, request):
        return Response(ProfileSerializer(self.get_object()).data)

    @extend_schema(summary="Replace my profile (fields left out keep their values)")
    def put(self, request):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some fields of my profile")
    def patch(self, request):
        return self._update(request, partial=True)

    def _update(self, request, *, partial):
        serializer = ProfileSerializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        profile_update(user=request.user, **serializer.validated_data)
        return Response(ProfileSerializer(self.get_object()).data)


class TokenView(ObtainAuthToken):
    """POST username + password: the user's token (a new one once it expired). DELETE: revoke the caller's."""

    # The project's parsers: DRF's token view pins its own, which answer a deeply nested body with a 500.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def get_permissions(self):
        return [IsPerson()] if self.request.method == "DELETE" else []

    def get_throttles(self):
        return [throttle() for throttle in LOGIN_THROTTLES] if self.request.method == "POST" else []

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"token": token_issue(user=serializer.validated_data["user"]).key})

    @extend_schema(summary="Revoke my token (every client using it is signed out)", responses={204: None})
    def delete(self, request, *args, **kwargs):
        token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignupView(GenericAPIView):
    """Create an account with the site's rules and get its API token (what a mobile app's sign-up does)."""

    permission_classes = []
    authentication_classes = []
    serializer_class = SignupSerializer
    throttle_classes = [SignupIPThrottle]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    @extend_schema(
        summary="Sign up: a new account and its token",
        responses={201: TokenSerializer},
        examples=[
            OpenApiExample(
                "A new account",
                value={"username": "mia", "email": "mia@example.com", "password": "plum-orbit-lantern-42"},
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={"username": "mia", "token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = user_signup(username=data["username"], email=data["email"], password=data["password"])
        body = {"username": user.username, "token": token_issue(user=user).key}
        return Response(body, status=status.HTTP_201_CREATED)
