"""Friendly error pages for the whole site; under /api/ the same errors answer JSON, as the API does."""

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader


def is_api(request) -> bool:
    """Whether the request is for the REST API (its errors answer JSON, not a page)."""
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    # An /api/ path no route matches (e.g. /api/items/1.5/) gets the body every other API 404 has.
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    # No request context: whatever broke (the database, a context processor) must not break this too.
    return HttpResponseServerError(loader.get_template("500.html").render())


def permission_denied(request, exception):
    if is_api(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return render(request, "403.html", status=403)
