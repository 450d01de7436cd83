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

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return loads_strict(body.decode(encoding))
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc
        except ValueError as exc:  # not JSON, not in `encoding`, a refused number or a lone surrogate
            raise ParseError(f"JSON parse error - {exc}") from exc
