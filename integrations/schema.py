"""How the OpenAPI schema describes a service client's key."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ServiceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.auth.ServiceKeyAuthentication"
    name = "serviceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A service client's key: `Authorization: Api-Key <key>` (create one with "
            "`manage.py create_api_key` or in the admin). Each endpoint names the scope it needs.",
        }
