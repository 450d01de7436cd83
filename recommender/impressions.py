"""Impressions: what each feed showed, written so that they never slow or fail the feed.

One multi-row INSERT per feed (the k items, their positions, the live model version and the user's
regime); a database error is logged and the feed is served anyway. Reactions are read later from the
interactions that follow (`staff_selectors.online_metrics`). Off with FEED_IMPRESSIONS=0.
"""

import logging

from django.conf import settings
from django.db import DatabaseError

from recommender.models import Impression

logger = logging.getLogger(__name__)


def impressions_record(*, feed, surface: str) -> int:
    """Store the impressions of a `selectors.Feed` shown on `surface` (api, site, service); how many.

    Nothing is stored for someone not stored (a service client's visitor) or with FEED_IMPRESSIONS off.
    """
    user_id = getattr(feed, "user_id", None)  # a plain list says nothing about whose feed it is
    if not settings.FEED_IMPRESSIONS or user_id is None or not feed:
        return 0
    rows = [
        Impression(
            user_id=user_id,
            item_id=rec.item.pk,
            position=position,
            model_version_id=feed.version_id,
            regime=feed.regime,
            surface=surface,
        )
        for position, rec in enumerate(feed)
    ]
    try:
        Impression.objects.bulk_create(rows)  # one INSERT: all of them or none
    except DatabaseError as exc:
        logger.warning("Could not record %d impressions: %s", len(rows), exc)
        return 0
    return len(rows)
