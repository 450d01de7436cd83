"""GroupLens' raw MovieLens-100K files: u.item, u.genre, u.user (all '|'-separated) and u.data (tabs).

The files are latin-1. A title carries its year ("Toy Story (1995)"); when it does not, the year of
the release date ("01-Jan-1995") is used. Without u.genre the standard ML-100K genre list is assumed.
"""

import re
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
    title_year,
)

ENCODING = "latin-1"
ML100K_GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
] + ["Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]
_DATE_YEAR = re.compile(r"^\d{1,2}-[A-Za-z]{3}-(?P<year>\d{4})$")


def read_dataset(*, path: Path) -> Dataset:
    """Parse and validate u.item (+ u.genre), u.user and u.data in directory `path`."""
    files = {name: path / name for name in ("u.item", "u.genre", "u.user", "u.data")}
    if not any(files[name].is_file() for name in ("u.item", "u.user", "u.data")):
        raise DatasetError(path.name, None, "no MovieLens files (u.item, u.user, u.data) found")
    dataset = Dataset()
    if files["u.item"].is_file():
        genres = _read_genres(files["u.genre"]) if files["u.genre"].is_file() else ML100K_GENRES
        for record in _read_items(files["u.item"], genres):
            dataset.add_item(record)
    if files["u.user"].is_file():
        for record in _read_users(files["u.user"]):
            dataset.add_user(record)
    if files["u.data"].is_file():
        dataset.interactions = list(_read_ratings(files["u.data"]))
    return dataset


def _lines(path: Path, *, sep: str, columns: int):
    """Yield (line number, fields) for each non-blank line, checking the column count."""
    text = path.read_text(encoding=ENCODING)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(sep)
        if len(fields) != columns:
            raise DatasetError(path.name, number, f"expected {columns} columns, found {len(fields)}")
        yield number, fields


def _read_genres(path: Path) -> list[str]:
    by_index = {}
    for line, (name, index) in _lines(path, sep="|", columns=2):
        if not index.strip().isdigit():
            raise DatasetError(path.name, line, f"genre index '{index}' is not a number")
        by_index[int(index)] = parse_text(name, file=path.name, line=line, name="genre", max_length=64, required=True)
    if sorted(by_index) != list(range(len(by_index))):
        raise DatasetError(path.name, None, "genre indexes must run 0, 1, 2, ... without gaps")
    return [by_index[i] for i in range(len(by_index))]


def _split_title(raw: str, release_date: str, *, file: str, line: int) -> tuple[str, int | None]:
    """("Toy Story", 1995) from "Toy Story (1995)"; the year falls back to the release date's."""
    title, year_text = title_year(raw.strip())
    if year_text is None:
        date = _DATE_YEAR.match(release_date.strip())
        year_text = date["year"] if date else ""
    title = parse_text(title, file=file, line=line, name="title", max_length=255, required=True)
    return title, parse_year(year_text, file=file, line=line)


def _read_items(path: Path, genres: list[str]):
    name = path.name
    for line, fields in _lines(path, sep="|", columns=5 + len(genres)):
        external_id = parse_id(fields[0], file=name, line=line, noun="item")
        title, year = _split_title(fields[1], fields[2], file=name, line=line)
        flags = [flag.strip() for flag in fields[5:]]
        bad = next((flag for flag in flags if flag not in ("0", "1")), None)
        if bad is not None:
            raise DatasetError(name, line, f"genre flag '{bad}' is not 0 or 1")
        categories = tuple(genre for genre, flag in zip(genres, flags, strict=True) if flag == "1")
        extra = {"release_date": fields[2], "video_release_date": fields[3], "imdb_url": fields[4]}
        attributes = {key: value.strip() for key, value in extra.items() if value.strip()}
        values = {"title": title, "year": year, "attributes": attributes}
        yield ItemRecord(external_id=external_id, file=name, line=line, values=values, categories=categories)


def _read_users(path: Path):
    name = path.name
    for line, fields in _lines(path, sep="|", columns=5):
        external_id = parse_id(fields[0], file=name, line=line, noun="user")
        raw = dict(zip(("age", "gender", "occupation", "location"), fields[1:], strict=True))
        yield UserRecord(
            external_id=external_id, file=name, line=line, values=profile_values(raw, file=name, line=line)
        )


def _read_ratings(path: Path):
    name = path.name
    kind = Interaction.Kind.RATING.value
    for line, fields in _lines(path, sep="\t", columns=4):
        user = parse_id(fields[0], file=name, line=line, noun="user")
        item = parse_id(fields[1], file=name, line=line, noun="item")
        value = parse_value(fields[2], kind=kind, file=name, line=line)
        timestamp = parse_timestamp(fields[3], file=name, line=line)
        yield InteractionRecord(user, item, kind, value, timestamp, file=name, line=line)
