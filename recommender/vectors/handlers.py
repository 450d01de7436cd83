"""Signal handlers: hand the changed item ids to the sync service once the transaction commits.

Bulk writes (bulk_create, queryset.update) send no signals: their callers run `vectors_sync_items`,
and `manage.py vectors_check --repair` mends anything missed.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from catalog.models import Item
from recommender.models import ItemEmbedding
from recommender.vectors.services import vectors_sync_on_commit


def _item_changed(sender, instance, using, **kwargs):
    vectors_sync_on_commit(item_ids=[instance.pk], using=using)


def _embedding_changed(sender, instance, using, **kwargs):
    vectors_sync_on_commit(item_ids=[instance.item_id], using=using)


def _categories_changed(sender, instance, action, reverse, pk_set, using, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"}:
        vectors_sync_on_commit(item_ids=(pk_set or ()) if reverse else [instance.pk], using=using)


def connect() -> None:
    """Connect the handlers once (dispatch_uid), from VectorsConfig.ready()."""
    post_save.connect(_item_changed, sender=Item, dispatch_uid="vectors_item_saved")
    post_delete.connect(_item_changed, sender=Item, dispatch_uid="vectors_item_deleted")
    post_save.connect(_embedding_changed, sender=ItemEmbedding, dispatch_uid="vectors_embedding_saved")
    post_delete.connect(_embedding_changed, sender=ItemEmbedding, dispatch_uid="vectors_embedding_deleted")
    m2m_changed.connect(_categories_changed, sender=Item.categories.through, dispatch_uid="vectors_item_categories")
