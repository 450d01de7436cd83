from django import forms
from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from .models import SCOPES, ServiceClient

# The package's own key model is not used: service clients carry scopes.
admin.site.unregister(APIKey)


class ServiceClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=list(SCOPES.items()), widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ServiceClient
        fields = ("name", "scopes", "expiry_date", "revoked")


@admin.register(ServiceClient)
class ServiceClientAdmin(APIKeyModelAdmin):
    """Creating a client shows its key once (a message); only its hash is stored. Revoking is final."""

    form = ServiceClientForm
    list_display = ("prefix", "name", "scope_list", "created", "expiry_date", "_has_expired", "revoked")

    @admin.display(description="scopes")
    def scope_list(self, obj: ServiceClient) -> str:
        return ", ".join(obj.scopes) or "-"
