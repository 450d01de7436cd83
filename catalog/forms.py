"""Forms for the catalog pages: posting an interaction and filtering the browse list."""

from django import forms

from .models import Category, Interaction
from .selectors import SEARCH_MAX_LENGTH, validate_search

SITE_KINDS = [
    (Interaction.Kind.LIKE, "Like"),
    (Interaction.Kind.DISLIKE, "Dislike"),
    (Interaction.Kind.RATING, "Rating"),
]


class InteractionForm(forms.Form):
    """What the site's controls post: like, dislike, or a whole-star rating from 1 to 5."""

    kind = forms.ChoiceField(choices=SITE_KINDS)
    value = forms.IntegerField(required=False, min_value=1, max_value=5)

    def clean(self):
        data = super().clean()
        if data.get("kind") == Interaction.Kind.RATING and data.get("value") is None and "value" not in self.errors:
            self.add_error("value", "Choose a rating from 1 to 5.")
        if data.get("kind") in (Interaction.Kind.LIKE, Interaction.Kind.DISLIKE):
            data["value"] = None
        return data


class BrowseForm(forms.Form):
    """Search text and one category (by slug); both optional."""

    q = forms.CharField(
        label="Search titles", required=False, max_length=SEARCH_MAX_LENGTH, validators=[validate_search]
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("name"), to_field_name="slug", required=False, empty_label="All categories"
    )
