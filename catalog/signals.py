"""Signal handlers only hand off to the task helpers (tasks.enqueue): ids, queued after commit."""

from django.db.models.signals import m2m_changed, post_save

from tasks import enqueue

M2M_DONE = frozenset({"post_add", "post_remove", "post_clear"})


def _item_saved(sender, instance, **kwargs):
    enqueue.items_changed([instance.pk])


def _item_categories_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action in M2M_DONE:  # reverse: a category gained/lost items (a reverse clear is left to the sweep)
        enqueue.items_changed((pk_set or ()) if reverse else [instance.pk])


def _interaction_saved(sender, instance, created, **kwargs):
    if created:
        enqueue.interactions_added(1)


def connect():
    from .models import Interaction, Item

    post_save.connect(_item_saved, sender=Item, dispatch_uid="catalog_item_saved")
    m2m_changed.connect(_item_categories_changed, sender=Item.categories.through, dispatch_uid="catalog_item_cats")
    post_save.connect(_interaction_saved, sender=Interaction, dispatch_uid="catalog_interaction_saved")
