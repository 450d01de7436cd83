"""Admin for the catalog. Big tables (interactions) page without COUNT(*) surprises.

Items also get an "Import CSV/JSONL" page that runs the same importer as `manage.py import_dataset`.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property

from catalog.importers import DatasetError, upload_import
from catalog.importers.tabular import KINDS

from .models import Category, Interaction, Item

User = get_user_model()


def table_row_estimate(model) -> int | None:
    """The database's own estimate of the table's row count (MySQL/MariaDB, PostgreSQL), else None."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(
                "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                [table],
            )
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [table])
        else:
            return None
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else None


class EstimatedCountPaginator(Paginator):
    """Exact counts for filtered lists; an unfiltered list of a big table uses the row estimate.

    InnoDB's COUNT(*) reads the whole index, so the unfiltered first page of 100k interactions would
    cost more than everything else on the page. SQLite has no estimate but counts quickly.
    """

    exact_below = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = table_row_estimate(queryset.model)
            if estimate is not None and estimate >= self.exact_below:
                return estimate
        return queryset.count()


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=[(kind, kind.capitalize()) for kind in KINDS], initial="items")
    file = forms.FileField(help_text="A .csv (with a header row) or .jsonl file; the layout is in docs/importing.md.")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "item_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items", distinct=True))

    @admin.display(description="items", ordering="item_count")
    def item_count(self, obj):
        return obj.item_count


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "category_names", "is_active", "created_at"]
    list_filter = ["categories", "is_active", "created_at"]
    search_fields = ["title", "=external_id"]
    filter_horizontal = ["categories"]
    readonly_fields = ["created_at", "updated_at"]
    fields = ["external_id", "title", "description", "year", "categories", "attributes", "is_active", *readonly_fields]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("categories")

    @admin.display(description="categories")
    def category_names(self, obj):
        return ", ".join(category.name for category in obj.categories.all())

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="catalog_item_import"), *super().get_urls()]

    def import_view(self, request):
        """Upload one CSV/JSONL file (items, users or interactions) and import it like import_dataset."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None, initial={"kind": request.GET.get("kind")})
        if request.method == "POST" and form.is_valid():
            try:
                summary = upload_import(uploaded=form.cleaned_data["file"], kind=form.cleaned_data["kind"])
            except DatasetError as error:
                form.add_error("file", str(error))
            else:
                self.message_user(request, "Imported. " + "; ".join(summary.lines()), messages.SUCCESS)
                return redirect(reverse("admin:catalog_item_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Import CSV/JSONL",
        }
        return TemplateResponse(request, "admin/catalog/item/import.html", context)


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    """Read-mostly: interactions come from people and imports, not from typing them in here."""

    list_display = ["timestamp", "user", "item", "kind", "value"]
    list_filter = ["kind", "timestamp"]
    # Not select_related: with INNER JOINs MariaDB starts from the users table and sorts all 100k rows
    # (0.55 s a page); two primary-key look-ups for the page's users and items take milliseconds.
    # An empty tuple, not False: False would make the changelist add select_related() itself.
    list_select_related = ()
    raw_id_fields = ["user", "item"]
    search_fields = ["=user__username", "=user__profile__external_id", "=item__external_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("user", "item")

    def get_search_results(self, request, queryset, search_term):
        """Exact user (username or external id) or item external id, resolved to ids first.

        The default OR across two joined tables scans every interaction; two small look-ups and an
        `IN` on the indexed foreign keys do not.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        users = User.objects.filter(Q(username=term) | Q(profile__external_id=term)).values_list("id", flat=True)
        items = Item.objects.filter(external_id=term).values_list("id", flat=True)
        return queryset.filter(Q(user_id__in=list(users)) | Q(item_id__in=list(items))), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # every field read-only; deleting stays possible
