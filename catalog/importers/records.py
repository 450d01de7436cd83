"""What every format parses into, and the field checks they share. No database access here.

A record keeps only the fields its source file provides (`values`), so importing a file without,
say, a description column never wipes descriptions that were set some other way.
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from catalog.models import Interaction
from catalog.text import is_visible

MAX_ID_LENGTH = 64
# Tokens that mean "no value". RecBole's own ML-100K files spell item 267's year "unkonwn".
MISSING = {"", "unknown", "unkonwn", "na", "n/a", "nan", "none", "null"}
INTERACTION_KINDS = set(Interaction.Kind.values)
GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F", "o": "O", "other": "O"}
_YEAR = re.compile(r"^\d{4}$")
_TITLE_YEAR = re.compile(r"^(?P<title>.*?\S)\s*\((?P<year>\d{4})\)\s*$")


class DatasetError(Exception):
    """A problem in one file (and line) of a dataset: nothing was written."""

    def __init__(self, file: str, line: int | None, problem: str, field: str | None = None):
        self.file, self.line, self.problem, self.field = file, line, problem, field
        super().__init__(f"{file}, line {line}: {problem}" if line else f"{file}: {problem}")


@dataclass
class ItemRecord:
    external_id: str
    file: str
    line: int
    values: dict  # a subset of title, description, year, attributes
    categories: tuple | None = None  # None: the source has no category column


@dataclass
class UserRecord:
    external_id: str
    file: str
    line: int
    values: dict  # a subset of about, age, gender, occupation, location
    interests: tuple | None = None


@dataclass
class InteractionRecord:
    user: str
    item: str
    kind: str
    value: float
    timestamp: dt.datetime
    file: str
    line: int


@dataclass
class Dataset:
    items: dict = field(default_factory=dict)  # external_id -> ItemRecord
    users: dict = field(default_factory=dict)  # external_id -> UserRecord
    interactions: list = field(default_factory=list)
    _folded: dict = field(default_factory=lambda: {"item": {}, "user": {}}, repr=False)

    def add_item(self, record: ItemRecord) -> None:
        """Add an item record, refusing a second definition of the same id."""
        _add_unique(self.items, self._folded["item"], record, "item")

    def add_user(self, record: UserRecord) -> None:
        """Add a user record, refusing a second definition of the same id."""
        _add_unique(self.users, self._folded["user"], record, "user")


def _add_unique(records: dict, folded: dict, record, noun: str) -> None:
    # Compared ignoring case: MySQL's collation would make 'A1' and 'a1' one row (an IntegrityError
    # mid-import), so they are refused here, with both lines, on every database.
    first = folded.get(record.external_id.casefold())
    if first is not None:
        spelled = "" if first.external_id == record.external_id else f" as '{first.external_id}'; ids ignore case"
        problem = f"duplicate {noun} id '{record.external_id}' (first on line {first.line}{spelled})"
        raise DatasetError(record.file, record.line, problem, "external_id")
    records[record.external_id] = folded[record.external_id.casefold()] = record


def parse_id(raw, *, file: str, line: int, noun: str, field: str | None = None) -> str:
    """A dataset id as a non-empty string of at most 64 characters (`field`: its column, for errors)."""
    value = str(raw if raw is not None else "").strip()
    if not is_visible(value):
        raise DatasetError(file, line, f"empty {noun} id", field)
    if len(value) > MAX_ID_LENGTH:
        raise DatasetError(file, line, f"{noun} id longer than {MAX_ID_LENGTH} characters", field)
    return value


def parse_text(raw, *, file: str, line: int, name: str, max_length: int, required: bool = False) -> str:
    """A stripped string of at most max_length characters (non-empty when required)."""
    value = "" if raw is None else str(raw).strip()
    if required and not is_visible(value):
        raise DatasetError(file, line, f"empty {name}", name)
    if len(value) > max_length:
        raise DatasetError(file, line, f"{name} longer than {max_length} characters", name)
    return value


def parse_year(raw, *, file: str, line: int) -> int | None:
    """A four-digit year between 1800 and 2100, or None when missing."""
    value = "" if raw is None else str(raw).strip()
    if value.lower() in MISSING:
        return None
    if not _YEAR.match(value) or not 1800 <= int(value) <= 2100:
        raise DatasetError(file, line, f"bad year '{value}' (expected 1800-2100)", "year")
    return int(value)


def title_year(title: str) -> tuple[str, str | None]:
    """("Toy Story", "1995") from "Toy Story (1995)"; (title, None) when it does not end in a year."""
    match = _TITLE_YEAR.match(title)
    return (match["title"], match["year"]) if match else (title, None)


def parse_age(raw, *, file: str, line: int) -> int | None:
    """An age between 1 and 120, or None when missing."""
    value = "" if raw is None else str(raw).strip()
    if value.lower() in MISSING:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 120:
        raise DatasetError(file, line, f"bad age '{value}' (expected 1-120)", "age")
    return int(value)


def parse_gender(raw, *, file: str, line: int) -> str:
    """M, F, O, or "" when missing (accepts male/female/other in any case)."""
    value = "" if raw is None else str(raw).strip()
    if value.lower() in MISSING:
        return ""
    if value.lower() not in GENDERS:
        raise DatasetError(file, line, f"bad gender '{value}' (expected M, F or O)", "gender")
    return GENDERS[value.lower()]


def parse_kind(raw, *, file: str, line: int) -> str:
    """An interaction kind; empty means rating."""
    value = "" if raw is None else str(raw).strip().lower()
    if not value:
        return Interaction.Kind.RATING.value
    if value not in INTERACTION_KINDS:
        expected = ", ".join(sorted(INTERACTION_KINDS))
        raise DatasetError(file, line, f"bad kind '{value}' (expected one of {expected})", "kind")
    return value


def parse_value(raw, *, kind: str, file: str, line: int) -> float:
    """A rating in 0.5-5, or for other kinds a non-negative value (default 1)."""
    value = "" if raw is None else str(raw).strip()
    noun = "rating" if kind == Interaction.Kind.RATING else "value"
    if not value:
        if kind == Interaction.Kind.RATING:
            raise DatasetError(file, line, "empty rating", "value")
        return 1.0
    try:
        number = float(value)
    except ValueError:
        raise DatasetError(file, line, f"{noun} '{value}' is not a number", "value") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise DatasetError(file, line, f"{noun} '{value}' is not a number", "value")
    if kind == Interaction.Kind.RATING and not Interaction.RATING_MIN <= number <= Interaction.RATING_MAX:
        bounds = f"{Interaction.RATING_MIN}-{Interaction.RATING_MAX}"
        raise DatasetError(file, line, f"rating {value} is outside {bounds}", "value")
    if number < 0:
        raise DatasetError(file, line, f"value {value} is negative", "value")
    if number > Interaction.VALUE_MAX:
        raise DatasetError(file, line, f"value {value} is larger than {Interaction.VALUE_MAX:g}", "value")
    return number


def parse_timestamp(raw, *, file: str, line: int) -> dt.datetime:
    """An aware UTC datetime from unix seconds or ISO-8601 (a naive ISO time is taken as UTC)."""
    value = "" if raw is None else str(raw).strip()
    if not value:
        raise DatasetError(file, line, "empty timestamp", "timestamp")
    try:
        return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
    except ValueError:
        pass
    except (OverflowError, OSError):
        raise DatasetError(file, line, f"bad timestamp '{value}'", "timestamp") from None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problem = f"bad timestamp '{value}' (expected unix seconds or ISO-8601)"
        raise DatasetError(file, line, problem, "timestamp") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def profile_values(raw: dict, *, file: str, line: int) -> dict:
    """Parsed profile fields for the keys present in raw (about, age, gender, occupation, location)."""
    parsers = {
        "about": lambda v: parse_text(v, file=file, line=line, name="about", max_length=2000),
        "age": lambda v: parse_age(v, file=file, line=line),
        "gender": lambda v: parse_gender(v, file=file, line=line),
        "occupation": lambda v: parse_text(v, file=file, line=line, name="occupation", max_length=64),
        "location": lambda v: parse_text(v, file=file, line=line, name="location", max_length=64),
    }
    return {key: parsers[key](value) for key, value in raw.items() if key in parsers}


def split_names(raw, *, sep: str | None, file: str, line: int, field: str | None = None) -> tuple:
    """Category names from a separated string (or a JSON list), de-duplicated, order kept."""
    if raw is None:
        return ()
    parts = raw if isinstance(raw, list) else str(raw).split(sep)
    names = []
    for part in parts:
        name = str(part).strip()
        if len(name) > 64:
            raise DatasetError(file, line, f"category name '{name[:20]}...' longer than 64 characters", field)
        if name and name not in names:
            names.append(name)
    return tuple(names)
