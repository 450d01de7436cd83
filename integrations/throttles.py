"""Request rates: a service client's key has its own rate (API_THROTTLE_SERVICE), far above one
person's, since one backend asks on behalf of all its users; people keep API_THROTTLE_USER."""

from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from .auth import is_service


class PersonRateThrottle(UserRateThrottle):
    """DRF's per-user rate, for people only (a service client is counted by `ServiceRateThrottle`)."""

    def get_cache_key(self, request, view):
        return None if is_service(request) else super().get_cache_key(request, view)


class ServiceRateThrottle(SimpleRateThrottle):
    """Requests per service client key."""

    scope = "service"

    def get_cache_key(self, request, view):
        if not is_service(request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
