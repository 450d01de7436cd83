"""The texts that get embedded, built from plain values (no Django). Their hash decides re-embedding.

Item text: `template` (settings.ITEM_TEXT_TEMPLATE, default
"{title}. {categories}. {year}. {description} {attributes}") filled with
  title, categories joined by ", ", year, description, attributes as "key: value; key: value"
  (keys sorted, empty values left out, list values joined by ", ").
Each placeholder owns the literal text that follows it: an empty value drops that separator too,
a value already ending in ".", "!" or "?" does not get a second "." and whitespace is collapsed.
So the default gives "Toy Story. Animation, Children's, Comedy. 1995." for Toy Story.

User text: "{about} Interested in {interests}. A {age}-year-old {woman|man|person} working as
{occupation}, from {location}." with interests joined by ", " and every empty part left out:
no interests drops the "Interested in" sentence; no age gives "A woman ..."; no occupation gives
"A 30-year-old man from Leeds."; nothing at all about the person drops the last sentence.
"""

import re
import string
from collections.abc import Iterable, Mapping

_SPACES = re.compile(r"\s+")
_FORMATTER = string.Formatter()
GENDER_WORDS = {"F": "woman", "M": "man"}
DEFAULT_ITEM_TEMPLATE = "{title}. {categories}. {year}. {description} {attributes}"


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(filter(None, (_value_text(v) for v in value)))
    return _collapse(str(value))


def attributes_text(attributes: Mapping | None) -> str:
    """Key attributes as "key: value; key: value", keys sorted, empty values left out."""
    parts = []
    for key in sorted(attributes or {}, key=str):
        value = _value_text(attributes[key])
        if value:
            parts.append(f"{_collapse(str(key))}: {value}")
    return "; ".join(parts)


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """Fill `template`, leaving out every empty value together with the literal text after it."""
    pieces = list(_FORMATTER.parse(template))
    out = [pieces[0][0] if pieces else ""]
    for index, (_, field, spec, conversion) in enumerate(pieces):
        if field is None:
            continue
        value = _collapse(_FORMATTER.format_field(_FORMATTER.convert_field(values[field], conversion), spec or ""))
        if not value:
            continue
        after = pieces[index + 1][0] if index + 1 < len(pieces) else ""
        if value[-1] in ".!?" and after.startswith("."):
            after = after[1:]
        out.append(value + after)
    return _collapse("".join(out))


def item_text(
    template: str,
    *,
    title: str,
    categories: Iterable[str] = (),
    year: int | None = None,
    description: str = "",
    attributes: Mapping | None = None,
) -> str:
    """The text embedded for an item (format in the module docstring)."""
    values = {
        "title": _value_text(title),
        "categories": ", ".join(filter(None, (_value_text(c) for c in categories))),
        "year": "" if year is None else str(year),
        "description": _value_text(description),
        "attributes": attributes_text(attributes),
    }
    return fill_template(template, values)


def user_text(
    *,
    about: str = "",
    interests: Iterable[str] = (),
    age: int | None = None,
    gender: str = "",
    occupation: str = "",
    location: str = "",
) -> str:
    """The text embedded for a user's profile (format in the module docstring)."""
    sentences = [_value_text(about)]
    interests = ", ".join(filter(None, (_value_text(i) for i in interests)))
    if interests:
        sentences.append(f"Interested in {interests}.")
    occupation, location = _value_text(occupation), _value_text(location)
    if age or gender in GENDER_WORDS or occupation or location:
        person = f"{age}-year-old " if age else ""
        person += GENDER_WORDS.get(gender, "person")
        if occupation:
            person += f" working as {occupation},"
        person += f" from {location}" if location else ""
        sentences.append(f"A {person.rstrip(',')}.")
    return _collapse(" ".join(sentences))
