"""Helpers shared by the import tests: write fixture files, run the command, snapshot the tables."""

from io import StringIO
from pathlib import Path

from django.core.management import call_command

from accounts.models import Profile, User
from catalog.models import Category, Interaction, Item

TABLES = [
    Category,
    Item,
    Item.categories.through,
    User,
    Profile,
    Profile.interests.through,
    Interaction,
]


def write_files(directory: Path, files: dict, encoding: str = "utf-8") -> Path:
    """Write {name: text} into directory (created) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding=encoding)
    return directory


def run_import(path, fmt: str) -> str:
    """Run `import_dataset PATH --format fmt` and return what it printed."""
    out = StringIO()
    call_command("import_dataset", str(path), "--format", fmt, "--no-progress", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every row of every table an import writes, as tuples of all column values."""
    state = {}
    for model in TABLES:
        columns = [field.attname for field in model._meta.concrete_fields]
        state[model._meta.label] = list(model.objects.order_by("pk").values_list(*columns))
    return state


def counts() -> dict:
    """Row counts of the tables an import writes."""
    return {model._meta.label: model.objects.count() for model in TABLES}


def record_enqueue(monkeypatch) -> dict:
    """Replace tasks.enqueue's functions with recorders and return what they receive."""
    calls = {"items": [], "users": [], "interactions": []}
    monkeypatch.setattr("tasks.enqueue.items_changed", lambda ids: calls["items"].append(sorted(ids)))
    monkeypatch.setattr("tasks.enqueue.users_changed", lambda ids: calls["users"].append(sorted(ids)))
    monkeypatch.setattr("tasks.enqueue.interactions_added", lambda count=1: calls["interactions"].append(count))
    return calls
