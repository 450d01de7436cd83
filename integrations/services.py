"""Writes for service clients: keys, and what a backend sends by external id (batches, retiring, erasing)."""

from django.db import transaction

from accounts.models import Profile
from catalog.importers import tabular
from catalog.importers.records import Dataset, DatasetError
from catalog.importers.writer import ImportSummary, dataset_write
from catalog.models import Item
from catalog.services import item_deactivate

from .models import SCOPES, ServiceClient, validate_scopes


def client_create(*, name: str, scopes: list[str], expiry_date=None) -> tuple[ServiceClient, str]:
    """A new service client and its key (the only time the key exists in clear: hand it over once)."""
    validate_scopes(scopes)
    scopes = sorted(set(scopes), key=list(SCOPES).index)
    if not name.strip():
        raise ValueError("a service client needs a name")
    return ServiceClient.objects.create_key(name=name.strip()[:50], scopes=scopes, expiry_date=expiry_date)


@transaction.atomic
def client_revoke(*, prefix: str) -> ServiceClient:
    """Revoke the key with this prefix (for good: a revoked key cannot be restored)."""
    client = ServiceClient.objects.select_for_update().get(prefix=prefix)
    if not client.revoked:
        client.revoked = True
        client.save(update_fields=["revoked"])
    return client


# Rows per batch request, and what each kind of row parses into (the importer's own checks).
BATCH_MAX_ROWS = 10_000
BATCH_SOURCE = "request"


def batch_ingest(*, kind: str, rows) -> ImportSummary:
    """Write one batch of items, users or interactions by external id, all or nothing.

    Rows are checked exactly as `import_dataset` checks a file's lines (a DatasetError names the row
    index as its line, and the field); the same row sent again changes nothing; the embedding and
    retrain checks are queued once for the whole batch.
    """
    if not isinstance(rows, list):
        raise DatasetError(BATCH_SOURCE, None, "expected a JSON array of objects (or JSON Lines)")
    if not rows:
        raise DatasetError(BATCH_SOURCE, None, "the batch is empty")
    if len(rows) > BATCH_MAX_ROWS:
        raise DatasetError(BATCH_SOURCE, None, f"{len(rows)} rows; at most {BATCH_MAX_ROWS} per request")
    dataset = Dataset()
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DatasetError(BATCH_SOURCE, index, "expected a JSON object")
        tabular.check_required(row, kind, file=BATCH_SOURCE, line=index)
        if kind == "items":
            dataset.add_item(tabular.item_record(row, file=BATCH_SOURCE, line=index))
        elif kind == "users":
            dataset.add_user(tabular.user_record(row, file=BATCH_SOURCE, line=index))
        else:
            dataset.interactions.append(tabular.interaction_record(row, file=BATCH_SOURCE, line=index))
    return dataset_write(dataset=dataset)


def item_retire(*, external_id: str) -> Item:
    """Retire (deactivate) the item with this external id: no longer recommended, its history kept."""
    return item_deactivate(item=Item.objects.get(external_id=external_id))


@transaction.atomic
def user_erase(*, external_id: str) -> int:
    """Erase the user with this external id and everything about them: account, profile, interests,
    profile vectors and interactions (GDPR erasure). The count of rows deleted."""
    profile = Profile.objects.select_related("user").get(external_id=external_id)
    deleted, _ = profile.user.delete()
    return deleted
