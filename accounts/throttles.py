"""Limits on password guessing, per client address and per username, for the site login and the API token.

They run before any password is checked, so a guessing client is answered 429 without costing a
password hash (a burst of guesses no longer slows everyone else's requests). Rates: settings
`DEFAULT_THROTTLE_RATES["login_ip"]` and `["login_username"]` (LOGIN_THROTTLE_IP / LOGIN_THROTTLE_USERNAME).
"""

import hashlib
import math

from rest_framework.throttling import SimpleRateThrottle


class LoginIPThrottle(SimpleRateThrottle):
    """Sign-in attempts from one client address."""

    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(SimpleRateThrottle):
    """Sign-in attempts for one username (case-insensitive), from anywhere."""

    scope = "login_username"

    def get_cache_key(self, request, view):
        data = getattr(request, "data", None)  # DRF's parsed body (JSON or form); a plain request has POST
        data = data if hasattr(data, "get") else request.POST
        username = str(data.get("username") or "").strip().casefold()
        if not username:
            return None
        ident = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SignupIPThrottle(SimpleRateThrottle):
    """Accounts created from one client address (`DEFAULT_THROTTLE_RATES["signup"]`, SIGNUP_THROTTLE)."""

    scope = "signup"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


LOGIN_THROTTLES = [LoginIPThrottle, LoginUsernameThrottle]


def retry_after(request, throttles) -> int | None:
    """Count this attempt against each throttle; the whole seconds it must wait when over a limit, else None."""
    waits = [throttle.wait() for throttle in (cls() for cls in throttles) if not throttle.allow_request(request, None)]
    return max(1, math.ceil(max(w or 0 for w in waits))) if waits else None


def login_retry_after(request) -> int | None:
    """Count this sign-in attempt (per address and per username); seconds to wait when over a limit."""
    return retry_after(request, LOGIN_THROTTLES)


def signup_retry_after(request) -> int | None:
    """Count this sign-up attempt (per address, as the API's); seconds to wait when over the limit."""
    return retry_after(request, [SignupIPThrottle])
