"""A client's own data: items, users and interactions as CSV (with a header) or JSON Lines, UTF-8.

items.csv|jsonl: external_id, title, description, categories ('|'-separated or a JSON list), year;
any other column goes into Item.attributes. users.csv|jsonl: external_id, about, age, gender,
occupation, location, interests (category names, like categories); other columns are ignored.
interactions.csv|jsonl: user, item, kind (default rating), value, timestamp (unix seconds or ISO-8601).
"""

import csv
import json
from pathlib import Path

from catalog.services import attributes_problem
from catalog.text import loads_strict

from .records import (
    Dataset,
    DatasetError,
    InteractionRecord,
    ItemRecord,
    UserRecord,
    parse_id,
    parse_kind,
    parse_text,
    parse_timestamp,
    parse_value,
    parse_year,
    profile_values,
    split_names,
)

KINDS = ("items", "users", "interactions")
REQUIRED = {"items": ("external_id", "title"), "users": ("external_id",), "interactions": ("user", "item", "timestamp")}
ITEM_FIELDS = {"external_id", "title", "description", "categories", "year", "attributes"}


def _find_file(directory: Path, kind: str) -> Path | None:
    """KIND.csv or KIND.jsonl in the directory (refusing both), or None."""
    found = [directory / f"{kind}.{ext}" for ext in ("csv", "jsonl") if (directory / f"{kind}.{ext}").is_file()]
    if len(found) > 1:
        raise DatasetError(directory.name, None, f"both {kind}.csv and {kind}.jsonl; keep one")
    return found[0] if found else None


def read_dataset(*, path: Path) -> Dataset:
    """Parse and validate items/users/interactions (.csv or .jsonl) in directory `path`."""
    files = {kind: _find_file(path, kind) for kind in KINDS}
    if not any(files.values()):
        raise DatasetError(path.name, None, "no items, users or interactions .csv/.jsonl file found")
    return read_files(files=files)


def read_files(*, files: dict, label: str | None = None) -> Dataset:
    """Parse {kind: path} files; `label` replaces the file name in errors (for an uploaded file)."""
    dataset = Dataset()
    if files.get("items"):
        for line, row in _rows(files["items"], "items", label):
            dataset.add_item(item_record(row, file=label or files["items"].name, line=line))
    if files.get("users"):
        for line, row in _rows(files["users"], "users", label):
            dataset.add_user(user_record(row, file=label or files["users"].name, line=line))
    if files.get("interactions"):
        name = label or files["interactions"].name
        rows = _rows(files["interactions"], "interactions", label)
        dataset.interactions = [interaction_record(row, file=name, line=line) for line, row in rows]
    return dataset


def _rows(path: Path, kind: str, label: str | None):
    """Yield (line number, {column: value}) from a CSV or JSONL file, checking required columns."""
    name = label or path.name
    reader = _jsonl_rows if path.suffix == ".jsonl" else _csv_rows
    for line, row in reader(path, name, REQUIRED[kind]):
        check_required(row, kind, file=name, line=line)
        yield line, row


def check_required(row: dict, kind: str, *, file: str, line: int) -> None:
    """Every column a row of this kind needs has a value."""
    for column in REQUIRED[kind]:
        if row.get(column) in (None, ""):
            raise DatasetError(file, line, f"empty {column}", column)


def _csv_rows(path: Path, name: str, required: tuple):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [column.strip() for column in next(reader, [])]
            missing = [column for column in required if column not in header]
            if missing:
                raise DatasetError(name, 1, f"no '{missing[0]}' column (header: {', '.join(header)})")
            start = reader.line_num + 1
            for fields in reader:
                line, start = start, reader.line_num + 1
                if not any(field.strip() for field in fields):
                    continue
                if len(fields) != len(header):
                    raise DatasetError(name, line, f"expected {len(header)} columns, found {len(fields)}")
                yield line, dict(zip(header, fields, strict=True))
        except csv.Error as error:
            raise DatasetError(name, reader.line_num, f"unreadable CSV ({error})") from None


def _jsonl_rows(path: Path, name: str, required: tuple):
    with path.open(encoding="utf-8-sig") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = loads_strict(text)
            except json.JSONDecodeError as error:
                raise DatasetError(name, line, f"invalid JSON ({error.msg})") from None
            except (ValueError, RecursionError) as error:
                raise DatasetError(name, line, f"invalid JSON ({error or 'nested too deeply'})") from None
            if not isinstance(row, dict):
                raise DatasetError(name, line, "expected a JSON object")
            yield line, row


def item_record(row: dict, *, file: str, line: int) -> ItemRecord:
    external_id = parse_id(row["external_id"], file=file, line=line, noun="item", field="external_id")
    values = {"title": parse_text(row["title"], file=file, line=line, name="title", max_length=255, required=True)}
    if "description" in row:
        values["description"] = parse_text(
            row["description"], file=file, line=line, name="description", max_length=5000
        )
    if "year" in row:
        values["year"] = parse_year(row["year"], file=file, line=line)
    extra = {key: value for key, value in row.items() if key not in ITEM_FIELDS and value not in ("", None)}
    if isinstance(row.get("attributes"), dict):
        extra = {**row["attributes"], **extra}
    elif row.get("attributes") not in (None, ""):
        raise DatasetError(file, line, "attributes must be a JSON object", "attributes")
    if "attributes" in row or any(key not in ITEM_FIELDS for key in row):
        if (problem := attributes_problem(extra)) is not None:
            raise DatasetError(file, line, f"attributes: {problem}", "attributes")
        values["attributes"] = extra
    categories = None
    if "categories" in row:
        categories = split_names(row["categories"], sep="|", file=file, line=line, field="categories")
    return ItemRecord(external_id=external_id, file=file, line=line, values=values, categories=categories)


def user_record(row: dict, *, file: str, line: int) -> UserRecord:
    external_id = parse_id(row["external_id"], file=file, line=line, noun="user", field="external_id")
    values = profile_values(row, file=file, line=line)
    interests = None
    if "interests" in row:
        interests = split_names(row["interests"], sep="|", file=file, line=line, field="interests")
    return UserRecord(external_id=external_id, file=file, line=line, values=values, interests=interests)


def interaction_record(row: dict, *, file: str, line: int) -> InteractionRecord:
    user = parse_id(row["user"], file=file, line=line, noun="user", field="user")
    item = parse_id(row["item"], file=file, line=line, noun="item", field="item")
    kind = parse_kind(row.get("kind"), file=file, line=line)
    value = parse_value(row.get("value"), kind=kind, file=file, line=line)
    timestamp = parse_timestamp(row["timestamp"], file=file, line=line)
    return InteractionRecord(user, item, kind, value, timestamp, file=file, line=line)
