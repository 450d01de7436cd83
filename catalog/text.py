"""Rules for catalog text shared by the services, the API and the importers."""

import json
import math
import unicodedata


def is_visible(text: str) -> bool:
    """True when text has a character that is not whitespace, a control, a format character or a
    separator. A value made only of those is blank to a reader, and MariaDB's collations ignore some of
    them ("\\u200b", "\\u0015"), so it would compare equal to "" and break the not-blank constraints."""
    return any(unicodedata.category(ch)[0] not in "CZ" for ch in text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e309 parses as infinity: no field, id or column can hold it
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def loads_strict(text: str):
    """JSON as strict as the database: NaN, Infinity, numbers out of range (1e309) and lone surrogate
    escapes ("\\ud800", which no UTF-8 text can hold) raise ValueError (RecursionError when too deep)."""
    data = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text holds an unpaired surrogate escape") from None
    return data
