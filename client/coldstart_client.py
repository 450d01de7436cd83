"""A small Python client for the recommender's service API (see README, "Integrating").

    from coldstart_client import Client
    api = Client("https://recs.example.com", api_key="AbCd1234.…")
    api.send_items([{"external_id": "sku-1", "title": "Toy Story", "categories": ["Animation"]}])
    api.send_users([{"external_id": "c-1042", "age": 34, "interests": ["Sci-Fi"]}])
    api.send_interactions([{"user": "c-1042", "item": "sku-1", "kind": "like", "timestamp": 1764500000}])
    for rec in api.recommendations("c-1042", k=10):
        print(rec.external_id, rec.title, rec.reason)

Rows are sent in batches of up to 10,000 per request (the server's limit); requests answered 409, 429
or 503 are retried with exponential backoff, honouring Retry-After (batches are idempotent, so a retried
one changes nothing twice). Needs only `requests`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

BATCH_ROWS = 10_000
KINDS = ("items", "users", "interactions")


class APIError(Exception):
    """The server refused a request: its status, its `detail`, and for a batch the refused rows."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None, body=None):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail, self.errors, self.body = status, detail, errors or [], body


@dataclass(frozen=True)
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.created + other.created, self.updated + other.updated, self.unchanged + other.unchanged)


@dataclass(frozen=True)
class BatchSummary:
    """What one or more batches changed, per kind of row."""

    categories: Counts = field(default_factory=Counts)
    items: Counts = field(default_factory=Counts)
    users: Counts = field(default_factory=Counts)
    interactions: Counts = field(default_factory=Counts)

    @classmethod
    def from_json(cls, body: dict) -> BatchSummary:
        return cls(**{kind: Counts(**body[kind]) for kind in ("categories", *KINDS)})

    def __add__(self, other: BatchSummary) -> BatchSummary:
        return BatchSummary(**{k: getattr(self, k) + getattr(other, k) for k in ("categories", *KINDS)})


@dataclass(frozen=True)
class Recommendation:
    external_id: str
    title: str
    score: float
    reason: str
    item: dict  # the item as the API gives it (id, external_id, title, year, categories)


class Client:
    """One service client (its API key) talking to one instance of the recommender."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        batch_rows: int = BATCH_ROWS,
        session: requests.Session | None = None,
    ):
        self.base = base_url.rstrip("/") + "/api/v1/"
        self.timeout, self.batch_rows = timeout, batch_rows
        self.session = session or requests.Session()
        retry = Retry(
            total=retries,
            backoff_factor=backoff,
            status_forcelist=(409, 429, 503),  # 409: a concurrent batch wrote the same new rows
            allowed_methods=None,  # every method: the batches are idempotent
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.session.headers["Authorization"] = f"Api-Key {api_key}"

    def _request(self, method: str, path: str, **kwargs):
        """`path` under /api/v1/, or a whole URL the server gave (a next page)."""
        url = path if path.startswith(("http://", "https://")) else self.base + path
        response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text[:500]}
            detail = body.get("detail") if isinstance(body, dict) and "detail" in body else str(body)
            raise APIError(response.status_code, detail, body.get("errors") if isinstance(body, dict) else None, body)
        return response.json() if response.content else None

    # Sending (scope: ingest).

    def send(self, kind: str, rows: Iterable[dict]) -> BatchSummary:
        """Send rows of one kind (items, users or interactions) in batches; the summed summary."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        total, rows = BatchSummary(), iter(rows)
        while batch := list(itertools.islice(rows, self.batch_rows)):
            total += BatchSummary.from_json(self._request("POST", f"{kind}:batch", json=batch))
        return total

    def send_items(self, rows: Iterable[dict]) -> BatchSummary:
        return self.send("items", rows)

    def send_users(self, rows: Iterable[dict]) -> BatchSummary:
        return self.send("users", rows)

    def send_interactions(self, rows: Iterable[dict]) -> BatchSummary:
        return self.send("interactions", rows)

    def retire_item(self, external_id: str) -> None:
        self._request("DELETE", f"items/by-external-id/{quote(external_id, safe='')}/")

    def erase_user(self, external_id: str) -> None:
        """Erase a user and everything about them (GDPR)."""
        self._request("DELETE", f"users/{quote(external_id, safe='')}/")

    # Reading back (scope: read).

    def export(self, kind: str, *, page_size: int = 5000) -> Iterator[dict]:
        """Every row of one kind, in the form `send` takes."""
        page = self._request("GET", f"{kind}:export", params={"page_size": page_size})
        yield from page["results"]
        while page["next"]:
            page = self._request("GET", page["next"])
            yield from page["results"]

    def user(self, external_id: str) -> dict:
        return self._request("GET", f"users/{quote(external_id, safe='')}/")

    def copy_to(self, other: Client) -> BatchSummary:
        """Send everything this instance holds (items, users, interactions) to another instance."""
        total = BatchSummary()
        for kind in KINDS:
            total += other.send(kind, self.export(kind))
        return total

    # Recommendations (scope: recommend).

    def recommendations(
        self,
        external_id: str,
        *,
        k: int = 20,
        category: str | None = None,
        exclude_seen: bool = True,
        context: Iterable[str] = (),
        interests: Iterable[str] = (),
        **profile,
    ) -> list[Recommendation]:
        """A user's feed. For a user not sent yet, `interests` (category slugs) and `profile` (about, age,
        gender, occupation, location) describe them; `context`: item external ids just viewed."""
        params = {"k": k, "exclude_seen": str(exclude_seen).lower(), **profile}
        if category:
            params["category"] = category
        if context := ",".join(context):
            params["context"] = context
        if interests := ",".join(interests):
            params["interests"] = interests
        return self._ranked(f"users/{quote(external_id, safe='')}/recommendations/", params)

    def similar(self, external_id: str, *, k: int = 10) -> list[Recommendation]:
        return self._ranked(f"items/by-external-id/{quote(external_id, safe='')}/similar/", {"k": k})

    def popular(self, *, k: int = 20, category: str | None = None) -> list[Recommendation]:
        return self._ranked("popular/", {"k": k, **({"category": category} if category else {})})

    def trending(self, *, k: int = 20, category: str | None = None) -> list[Recommendation]:
        return self._ranked("trending/", {"k": k, **({"category": category} if category else {})})

    def _ranked(self, path: str, params: dict) -> list[Recommendation]:
        body = self._request("GET", path, params=params)
        return [
            Recommendation(r["item"]["external_id"], r["item"]["title"], r["score"], r["reason"], r["item"])
            for r in body["results"]
        ]
