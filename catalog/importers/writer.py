"""The batched writer every format shares.

Everything is checked before the first write (references to users and items that are neither in
the files nor in the database, usernames already taken), then written in one transaction with
bulk queries: ids are mapped in memory, never looked up row by row. Rows whose values did not change
are not rewritten, so importing the same files twice changes nothing.
"""

import sys
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from accounts.models import Profile, User
from catalog.models import Category, Interaction, Item
from tasks import enqueue

from .records import Dataset, DatasetError

BATCH_SIZE = 2000
LOOKUP_CHUNK = 900  # ids per `IN (...)` query: under SQLite's oldest 999-parameter limit
USERNAME_PREFIX = "ext-"
ITEM_DEFAULTS = {"title": "", "description": "", "year": None, "attributes": {}}
PROFILE_DEFAULTS = {"about": "", "age": None, "gender": "", "occupation": "", "location": ""}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    categories: Counts = field(default_factory=Counts)
    items: Counts = field(default_factory=Counts)
    users: Counts = field(default_factory=Counts)
    interactions: Counts = field(default_factory=Counts)

    def lines(self) -> list[str]:
        """One human-readable line per kind of row."""
        lines = []
        for kind in ("categories", "items", "users", "interactions"):
            c = getattr(self, kind)
            lines.append(f"{kind}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged")
        return lines


def _chunks(values, size: int = LOOKUP_CHUNK):
    """Successive lists of at most `size` values."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def dataset_write(*, dataset: Dataset, progress: bool = False) -> ImportSummary:
    """Check the dataset's references against the database, then write it all in one transaction."""
    summary = ImportSummary()
    with transaction.atomic():
        items = _rows_by_external_id(Item, "external_id", dataset.items, ("id", *ITEM_DEFAULTS))
        profiles = _rows_by_external_id(Profile, "external_id", dataset.users, ("id", "user_id", *PROFILE_DEFAULTS))
        item_ids = {key: row["id"] for key, row in items.items()}
        user_ids = {key: row["user_id"] for key, row in profiles.items()}
        _check_references(dataset, item_ids, user_ids)
        _check_usernames(dataset, profiles)

        category_ids = _categories_ensure(dataset, summary.categories)
        changed_items = _items_write(dataset, items, item_ids, category_ids, summary.items)
        changed_users = _users_write(dataset, profiles, user_ids, category_ids, summary.users)
        _interactions_write(
            dataset, item_ids, user_ids, existing_users=set(profiles), counts=summary.interactions, progress=progress
        )

        if changed_items:
            enqueue.items_changed(changed_items)
        if changed_users:
            enqueue.users_changed(changed_users)
        if summary.interactions.created:
            enqueue.interactions_added(summary.interactions.created)
    return summary


def _rows_by_external_id(model, key: str, records: dict, columns: tuple) -> dict:
    """{external_id: {column: value}} for the rows of `model` whose key is among the records' ids."""
    rows = {}
    for chunk in _chunks(records):
        for row in model.objects.filter(**{f"{key}__in": chunk}).values(key, *columns):
            found = row.pop(key)
            if found not in records:  # MySQL's collation compares ids case-insensitively
                record = next(r for k, r in records.items() if k.casefold() == found.casefold())
                problem = f"id '{record.external_id}' differs only in letter case from the existing '{found}'"
                raise DatasetError(record.file, record.line, problem, "external_id")
            rows[found] = row
    return rows


def _ids_by(model, key: str, value: str, keys) -> dict:
    """{key: value} for rows of `model` whose `key` is among `keys`, in chunked queries."""
    found = {}
    for chunk in _chunks(keys):
        found.update(model.objects.filter(**{f"{key}__in": chunk}).values_list(key, value))
    return found


def _check_references(dataset: Dataset, item_ids: dict, user_ids: dict) -> None:
    """Every interaction's user and item is in the files or already in the database (else: its line)."""
    other_items = {r.item for r in dataset.interactions} - dataset.items.keys()
    other_users = {r.user for r in dataset.interactions} - dataset.users.keys()
    item_ids.update(_ids_by(Item, "external_id", "id", other_items))
    user_ids.update(_ids_by(Profile, "external_id", "user_id", other_users))
    for record in dataset.interactions:
        if record.user not in dataset.users and record.user not in user_ids:
            raise DatasetError(record.file, record.line, f"unknown user '{record.user}'", "user")
        if record.item not in dataset.items and record.item not in item_ids:
            raise DatasetError(record.file, record.line, f"unknown item '{record.item}'", "item")


def _check_usernames(dataset: Dataset, profiles: dict) -> None:
    """A new user's username (ext-<id>) must not belong to some other account already."""
    wanted = {USERNAME_PREFIX + key: key for key in dataset.users if key not in profiles}
    by_casefold = {username.casefold(): key for username, key in wanted.items()}
    for username in _ids_by(User, "username", "username", wanted):
        record = dataset.users[by_casefold[username.casefold()]]
        problem = f"username '{username}' already belongs to another account"
        raise DatasetError(record.file, record.line, problem, "external_id")


def _categories_ensure(dataset: Dataset, counts: Counts) -> dict:
    """{name: category id} for every category named in the dataset, creating the missing ones."""
    names = {name for r in dataset.items.values() for name in r.categories or ()}
    names |= {name for r in dataset.users.values() for name in r.interests or ()}
    if not names:
        return {}
    existing = {name.casefold(): pk for name, pk in Category.objects.values_list("name", "id")}
    slugs = set(Category.objects.values_list("slug", flat=True))
    new = {}
    for name in sorted(names):
        if name.casefold() not in existing and name.casefold() not in new:
            new[name.casefold()] = Category(name=name, slug=_unique_slug(name, slugs))
    Category.objects.bulk_create(new.values(), batch_size=BATCH_SIZE)
    counts.created, counts.unchanged = len(new), len(names) - len(new)
    if new:
        existing.update(
            {n.casefold(): pk for n, pk in _ids_by(Category, "name", "id", [c.name for c in new.values()]).items()}
        )
    return {name: existing[name.casefold()] for name in names}


def _unique_slug(name: str, taken: set) -> str:
    base = slugify(name)[:56] or "category"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _links_sync(through, owner: str, wanted: dict, category_ids: dict, owners_before: set) -> set:
    """Make the M2M rows of the owners in `wanted` ({owner id: names}) match; return owners that changed."""
    current = {}
    for chunk in _chunks(owners_before & wanted.keys()):
        for owner_id, category_id in through.objects.filter(**{f"{owner}_id__in": chunk}).values_list(
            f"{owner}_id", "category_id"
        ):
            current.setdefault(owner_id, set()).add(category_id)
    changed = {pk for pk, names in wanted.items() if {category_ids[n] for n in names} != current.get(pk, set())}
    stale = changed & owners_before
    for chunk in _chunks(stale):
        through.objects.filter(**{f"{owner}_id__in": chunk}).delete()
    rows = [
        through(**{f"{owner}_id": pk, "category_id": cid})
        for pk in changed
        for cid in sorted({category_ids[n] for n in wanted[pk]})
    ]
    through.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return changed


def _items_write(dataset: Dataset, items: dict, item_ids: dict, category_ids: dict, counts: Counts) -> list:
    """Create new items, update changed ones; return the ids of both."""
    new = [
        Item(external_id=key, **{**ITEM_DEFAULTS, "attributes": {}, **r.values})
        for key, r in dataset.items.items()
        if key not in items
    ]
    Item.objects.bulk_create(new, batch_size=BATCH_SIZE)
    item_ids.update(_ids_by(Item, "external_id", "id", [item.external_id for item in new]))

    changed_fields = {key for key, r in dataset.items.items() if key in items and _differs(items[key], r.values)}
    wanted = {item_ids[key]: r.categories for key, r in dataset.items.items() if r.categories is not None}
    before = {row["id"] for row in items.values()}
    relinked = _links_sync(Item.categories.through, "item", wanted, category_ids, before)
    changed = {key for key in items if key in changed_fields or items[key]["id"] in relinked}
    now = timezone.now()
    updates = [Item(**{**items[key], **dataset.items[key].values, "updated_at": now}) for key in changed]
    Item.objects.bulk_update(updates, [*ITEM_DEFAULTS, "updated_at"], batch_size=BATCH_SIZE)

    counts.created, counts.updated, counts.unchanged = len(new), len(changed), len(items) - len(changed)
    return sorted([item_ids[item.external_id] for item in new] + [items[key]["id"] for key in changed])


def _users_write(dataset: Dataset, profiles: dict, user_ids: dict, category_ids: dict, counts: Counts) -> list:
    """Create users (ext-<id>, unusable password) with profiles, update changed profiles; return user ids."""
    new_keys = [key for key in dataset.users if key not in profiles]
    User.objects.bulk_create(
        [User(username=USERNAME_PREFIX + key, password=make_password(None)) for key in new_keys], batch_size=BATCH_SIZE
    )
    by_username = _ids_by(User, "username", "id", [USERNAME_PREFIX + key for key in new_keys])
    user_ids.update({key: by_username[USERNAME_PREFIX + key] for key in new_keys})
    Profile.objects.bulk_create(
        [
            Profile(user_id=user_ids[key], external_id=key, **{**PROFILE_DEFAULTS, **dataset.users[key].values})
            for key in new_keys
        ],
        batch_size=BATCH_SIZE,
    )

    profile_ids = {key: row["id"] for key, row in profiles.items()}
    profile_ids.update(_ids_by(Profile, "external_id", "id", new_keys))

    changed_fields = {key for key, r in dataset.users.items() if key in profiles and _differs(profiles[key], r.values)}
    wanted = {profile_ids[key]: r.interests for key, r in dataset.users.items() if r.interests is not None}
    before = {row["id"] for row in profiles.values()}
    relinked = _links_sync(Profile.interests.through, "profile", wanted, category_ids, before)
    changed = {key for key in profiles if key in changed_fields or profiles[key]["id"] in relinked}
    now = timezone.now()
    updates = [Profile(**{**profiles[key], **dataset.users[key].values, "updated_at": now}) for key in changed]
    Profile.objects.bulk_update(updates, [*PROFILE_DEFAULTS, "updated_at"], batch_size=BATCH_SIZE)

    counts.created, counts.updated, counts.unchanged = len(new_keys), len(changed), len(profiles) - len(changed)
    return sorted([user_ids[key] for key in new_keys] + [profiles[key]["user_id"] for key in changed])


def _differs(row: dict, values: dict) -> bool:
    return any(row[name] != value for name, value in values.items())


def _interactions_write(dataset, item_ids, user_ids, *, existing_users: set, counts: Counts, progress: bool) -> None:
    """Insert new events, update the value of known ones that changed; identical ones are left alone."""
    events = {}
    for r in dataset.interactions:  # the same event twice in the files: the later line wins
        events[(user_ids[r.user], item_ids[r.item], r.kind, r.timestamp)] = r.value
    known = {}
    old_user_ids = {user_ids[key] for key in existing_users} | {user_ids[k] for k in user_ids if k not in dataset.users}
    for chunk in _chunks(old_user_ids & {key[0] for key in events}):
        rows = Interaction.objects.filter(user_id__in=chunk).values_list(
            "id", "user_id", "item_id", "kind", "timestamp", "value"
        )
        known.update({(u, i, k, ts): (pk, value) for pk, u, i, k, ts, value in rows})

    new = [key for key in events if key not in known]
    changed = [
        Interaction(id=known[key][0], value=value)
        for key, value in events.items()
        if key in known and known[key][1] != value
    ]
    with tqdm(total=len(new), disable=not progress, file=sys.stderr, unit="interaction", desc="interactions") as bar:
        for chunk in _chunks(new, BATCH_SIZE):
            Interaction.objects.bulk_create(
                [
                    Interaction(user_id=u, item_id=i, kind=k, timestamp=ts, value=events[(u, i, k, ts)])
                    for u, i, k, ts in chunk
                ]
            )
            bar.update(len(chunk))
    Interaction.objects.bulk_update(changed, ["value"], batch_size=BATCH_SIZE)
    counts.created, counts.updated = len(new), len(changed)
    counts.unchanged = len(events) - len(new) - len(changed)
