"""Friendly error pages for the whole site."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    # No request context: whatever broke (the database, a context processor) must not break this too.
    return HttpResponseServerError(loader.get_template("500.html").render())


def permission_denied(request, exception):
    return render(request, "403.html", status=403)
