"""Request parsers shared by every API endpoint."""

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from catalog.text import loads_strict


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class BoundedJSONParser(JSONParser):
    """JSON as strict as the database: a body over DATA_UPLOAD_MAX_MEMORY_SIZE bytes is a 413; one nested
    past Python's recursion limit, with NaN/Infinity or a number out of range (1e309), or with a lone
    surrogate escape ("\\ud800", which no UTF-8 text can hold) is a 400."""

    def limit(self) -> int:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def read_text(self, stream, parser_context) -> str:
        """The body as text, refusing one over `limit()` bytes (413) or not in its encoding (400)."""
        limit = self.limit()
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return body.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc

    def parse(self, stream, media_type=None, parser_context=None):
        text = self.read_text(stream, parser_context)
        try:
            return loads_strict(text)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc
        except ValueError as exc:  # not JSON, not in `encoding`, a refused number or a lone surrogate
            raise ParseError(f"JSON parse error - {exc}") from exc


class BatchJSONParser(BoundedJSONParser):
    """A batch request's JSON: up to API_BATCH_MAX_BYTES (a batch is larger than an ordinary request)."""

    def limit(self) -> int:
        return settings.API_BATCH_MAX_BYTES


class JSONLinesParser(BatchJSONParser):
    """JSON Lines (one object per line) as a list, each line as strict as `BoundedJSONParser`."""

    media_type = "application/x-ndjson"

    def parse(self, stream, media_type=None, parser_context=None):
        rows = []
        for number, line in enumerate(self.read_text(stream, parser_context).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(loads_strict(line))
            except RecursionError as exc:
                raise ParseError(f"JSON Lines parse error - line {number} is nested too deeply.") from exc
            except ValueError as exc:
                raise ParseError(f"JSON Lines parse error - line {number}: {exc}") from exc
        return rows


class JSONLParser(JSONLinesParser):
    media_type = "application/jsonl"
