"""Rules for catalog text shared by the services, the API and the importers."""

import unicodedata


def is_visible(text: str) -> bool:
    """True when text has a character that is not whitespace, a control, a format character or a
    separator. A value made only of those is blank to a reader, and MariaDB's collations ignore some of
    them ("\\u200b", "\\u0015"), so it would compare equal to "" and break the not-blank constraints."""
    return any(unicodedata.category(ch)[0] not in "CZ" for ch in text)
