"""Admin for the recommender's own tables: mostly read-only views of what the tasks wrote."""

import json

from django.contrib import admin
from django.utils.html import format_html

from catalog.admin import EstimatedCountPaginator

from .models import EvaluationReport, ItemEmbedding, ModelVersion, TaskLock, UserEmbedding

PREVIEW_VALUES = 8


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by tasks: staff may look (and delete), not type values in."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EmbeddingAdmin(ReadOnlyAdmin):
    """The vector blob is never loaded for the list, only its first values on the detail page."""

    list_display = ["owner", "model_name", "dim", "updated_at"]
    list_filter = ["model_name"]
    readonly_fields = ["vector_preview"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    owner_field = ""

    def get_queryset(self, request):
        return super().get_queryset(request).defer("vector")

    def get_fields(self, request, obj=None):
        return [self.owner_field, "model_name", "dim", "text_hash", "updated_at", "vector_preview"]

    @admin.display(description="owner")
    def owner(self, obj):
        return getattr(obj, self.owner_field)

    @admin.display(description=f"first {PREVIEW_VALUES} values")
    def vector_preview(self, obj):
        values = obj.as_array()[:PREVIEW_VALUES]
        return " ".join(f"{value:.4f}" for value in values)


@admin.register(ItemEmbedding)
class ItemEmbeddingAdmin(EmbeddingAdmin):
    owner_field = "item"
    list_select_related = ["item"]
    search_fields = ["=item__external_id", "item__title"]


@admin.register(UserEmbedding)
class UserEmbeddingAdmin(EmbeddingAdmin):
    owner_field = "user"
    list_select_related = ["user"]
    search_fields = ["user__username"]


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "created_at",
        "status",
        "is_live",
        "is_challenger",
        "challenger_share",
        "embedding_model",
        "embedding_dim",
        "published_at",
    ]
    list_filter = ["status", "is_live", "is_challenger"]

    def has_delete_permission(self, request, obj=None):
        # The live version and the challenger are what the site serves: publish another one, or stop the
        # experiment (`publish_model --stop-challenger`), before deleting it.
        serving = obj is not None and (obj.is_live or obj.is_challenger)
        return super().has_delete_permission(request, obj) and not serving


@admin.register(EvaluationReport)
class EvaluationReportAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "created_at", "model_version"]
    list_select_related = ["model_version"]
    fields = ["created_at", "model_version", "params_pretty", "results_pretty"]
    readonly_fields = ["params_pretty", "results_pretty"]

    @admin.display(description="params")
    def params_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.params, indent=2, sort_keys=True))

    @admin.display(description="results")
    def results_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.results, indent=2, sort_keys=True))


@admin.register(TaskLock)
class TaskLockAdmin(admin.ModelAdmin):
    """Editable, so staff can release a lease held by a worker that died."""

    list_display = ["name", "owner", "expires_at", "last_finished_at"]
    search_fields = ["name", "owner"]
