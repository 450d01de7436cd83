"""The signed-in user's own profile: GET / PUT / PATCH /api/me/."""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from .selectors import profile_for_user
from .serializers import ProfileSerializer
from .services import profile_ensure, profile_update


class MeView(GenericAPIView):
    permission_classes = [IsAuthenticated]
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
