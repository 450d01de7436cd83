"""Query-string filters for the catalog endpoints (validated: a bad value is a 400 naming it)."""

import django_filters

from catalog.models import Category, Interaction, Item
from catalog.selectors import SEARCH_MAX_LENGTH, items_search, validate_search


class ItemFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        validators=[validate_search],
        help_text="Words of the title, or an external id (at most 100 characters and 8 words).",
    )
    category = django_filters.ModelChoiceFilter(
        field_name="categories",
        to_field_name="slug",
        queryset=Category.objects.all(),
        help_text="A category slug.",
    )

    class Meta:
        model = Item
        fields = ["search", "category"]

    def filter_search(self, queryset, name, value):
        return items_search(queryset=queryset, text=value)


class InteractionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Interaction.Kind.choices)

    class Meta:
        model = Interaction
        fields = ["kind"]
