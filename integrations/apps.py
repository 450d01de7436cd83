from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Service clients (API keys with scopes) and the endpoints a shop's or media site's backend uses."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self):
        from . import schema  # noqa: F401  (registers the key's OpenAPI security scheme)
