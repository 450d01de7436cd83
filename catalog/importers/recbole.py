"""RecBole atomic files: NAME.item, NAME.user, NAME.inter in one directory, tab-separated, typed headers.

Columns are mapped by name (the part before ':'), never by position. Each file may be absent.
"""

import contextlib
from pathlib import Path

from catalog.models import Interaction

from .records import (
    Dataset,
    DatasetError,
    InteractionRecord,
    ItemRecord,
    UserRecord,
    parse_id,
    parse_text,
    parse_timestamp,
    parse_value,
    parse_year,
    profile_values,
    split_names,
    title_year,
)

TITLE_COLUMNS = ("movie_title", "title", "name")
CATEGORY_COLUMNS = ("class", "genre", "genres", "categories")
YEAR_COLUMNS = ("release_year", "year")
DESCRIPTION_COLUMNS = ("description", "overview")


def _find_atomic_file(directory: Path, suffix: str) -> Path | None:
    """NAME.suffix (NAME = the directory's name), else the only *.suffix file, else None."""
    named = directory / f"{directory.name}.{suffix}"
    if named.is_file():
        return named
    candidates = sorted(p for p in directory.glob(f"*.{suffix}") if p.is_file())
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise DatasetError(directory.name, None, f"several .{suffix} files ({names}); name one {named.name}")
    return candidates[0] if candidates else None


def read_dataset(*, path: Path) -> Dataset:
    """Parse and validate the atomic files in directory `path`."""
    files = {suffix: _find_atomic_file(path, suffix) for suffix in ("item", "user", "inter")}
    if not any(files.values()):
        raise DatasetError(path.name, None, "no RecBole atomic files (*.item, *.user, *.inter) found")
    dataset = Dataset()
    if files["item"]:
        for record in _read_items(files["item"]):
            dataset.add_item(record)
    if files["user"]:
        for record in _read_users(files["user"]):
            dataset.add_user(record)
    if files["inter"]:
        dataset.interactions = list(_read_interactions(files["inter"]))
    return dataset


def _table(path: Path, *, required: tuple) -> tuple[dict, object]:
    """The file's {column: type} header and an iterator of (line number, {column: (type, value)})."""
    name = path.name
    lines = path.read_text(encoding="utf-8").splitlines()
    columns = []
    for spec in (lines[0] if lines else "").split("\t"):
        column, _, kind = spec.strip().partition(":")
        if not column:
            raise DatasetError(name, 1, "empty column name in header")
        columns.append((column, kind or "token"))
    header = dict(columns)
    if len(header) != len(columns):
        raise DatasetError(name, 1, "duplicate column name in header")
    for column in required:
        if column not in header:
            raise DatasetError(name, 1, f"no '{column}' column")

    def rows():
        for number, text in enumerate(lines[1:], start=2):
            if not text.strip():
                continue
            fields = text.split("\t")
            if len(fields) != len(columns):
                raise DatasetError(name, number, f"expected {len(columns)} columns, found {len(fields)}")
            yield number, {column: (kind, value) for (column, kind), value in zip(columns, fields, strict=True)}

    return header, rows()


def _first(row: dict, names: tuple):
    """The first of these column names present in the row (or None)."""
    return next((name for name in names if name in row), None)


def _attribute(kind: str, value: str):
    """A typed attribute value: token -> str, *_seq -> list, float -> float (numbers kept as text if not)."""
    items = value.split() if kind.endswith("_seq") else [value.strip()]
    if kind.startswith("float"):
        with contextlib.suppress(ValueError):
            items = [float(item) for item in items]
    return items if kind.endswith("_seq") else items[0]


def _year(title: str, raw: str, *, file: str, line: int) -> tuple[str, int | None]:
    """The year column's year; when it holds no year but the title ends in "(1995)", the title's.

    RecBole's own ML-100K has one such row: item 1412, "Land Before Time III: ... (1995)", year "V".
    """
    try:
        return title, parse_year(raw, file=file, line=line)
    except DatasetError:
        stripped, year = title_year(title)
        if year is None:
            raise
        return stripped, parse_year(year, file=file, line=line)


def _read_items(path: Path):
    name = path.name
    header, rows = _table(path, required=("item_id",))
    title, cats, year = _first(header, TITLE_COLUMNS), _first(header, CATEGORY_COLUMNS), _first(header, YEAR_COLUMNS)
    if title is None:
        raise DatasetError(name, 1, f"no title column (one of {', '.join(TITLE_COLUMNS)})")
    description = _first(header, DESCRIPTION_COLUMNS)
    mapped = {"item_id", title, cats, year, description} - {None}
    for line, row in rows:
        external_id = parse_id(row["item_id"][1], file=name, line=line, noun="item")
        values = {"title": parse_text(row[title][1], file=name, line=line, name="title", max_length=255, required=True)}
        if year:
            values["title"], values["year"] = _year(values["title"], row[year][1], file=name, line=line)
        if description:
            text = row[description][1]
            values["description"] = parse_text(text, file=name, line=line, name="description", max_length=5000)
        if len(header) > len(mapped):
            extra = {column: _attribute(*typed) for column, typed in row.items() if column not in mapped}
            values["attributes"] = {key: value for key, value in extra.items() if value not in ("", [])}
        categories = split_names(row[cats][1], sep=None, file=name, line=line) if cats else None
        yield ItemRecord(external_id=external_id, file=name, line=line, values=values, categories=categories)


def _read_users(path: Path):
    name = path.name
    header, rows = _table(path, required=("user_id",))
    fields = {key: key for key in ("about", "age", "gender", "occupation") if key in header}
    location = _first(header, ("zip_code", "location"))
    if location:
        fields["location"] = location
    for line, row in rows:
        external_id = parse_id(row["user_id"][1], file=name, line=line, noun="user")
        raw = {key: row[column][1] for key, column in fields.items()}
        values = profile_values(raw, file=name, line=line)
        yield UserRecord(external_id=external_id, file=name, line=line, values=values)


def _read_interactions(path: Path):
    name = path.name
    header, rows = _table(path, required=("user_id", "item_id", "timestamp"))
    # No rating column: implicit feedback, recorded as views.
    kind = Interaction.Kind.RATING.value if "rating" in header else Interaction.Kind.VIEW.value
    for line, row in rows:
        user = parse_id(row["user_id"][1], file=name, line=line, noun="user")
        item = parse_id(row["item_id"][1], file=name, line=line, noun="item")
        timestamp = parse_timestamp(row["timestamp"][1], file=name, line=line)
        value = parse_value(row["rating"][1] if "rating" in row else "", kind=kind, file=name, line=line)
        yield InteractionRecord(user, item, kind, value, timestamp, file=name, line=line)
