"""Champion and challenger: a second (candidate) model version served to a set share of the users.

The live version is the champion. `challenger_start` makes another ready version the challenger for
`share` of the users; `serving.serving_state(user_id=...)` serves each user from the arm `in_challenger`
picks: a hash of the user and the challenger version, so a user stays in one arm for the whole
experiment (across processes and restarts) and a new challenger draws a new sample. Every feed records
its version on its impressions, so the staff pages' online figures per version and regime are the
figures per arm. `version_publish` of the challenger promotes it (it stops being the challenger);
`challenger_stop` ends the experiment. A retrain publishes a new champion and leaves the challenger
running.
"""

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from recommender.models import ModelVersion
from recommender.training import PublishRefused, version_prove


def in_challenger(*, user_id: int, challenger_id: int, share: float) -> bool:
    """Whether this user is served by the challenger: a uniform draw in [0, 1) from a hash of the user
    and the challenger version, compared with the share."""
    digest = hashlib.sha256(f"challenger:{challenger_id}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def challenger_start(*, version: ModelVersion, share: float) -> ModelVersion:
    """Serve `version` to `share` (0 < share < 1) of the users, in place of any earlier challenger,
    after proving it loads (a version that does not is marked rejected, as at publishing)."""
    if not 0 < share < 1:
        raise PublishRefused(f"the challenger's share must be between 0 and 1 (exclusive), not {share:g}")
    if version.is_live:
        raise PublishRefused(f"model version {version.pk} is live; a challenger must be another version")
    if version.status != ModelVersion.Status.READY:
        raise PublishRefused(f"model version {version.pk} is {version.status}, not ready")
    version_prove(version=version)
    try:
        with transaction.atomic():
            ModelVersion.objects.filter(is_challenger=True).exclude(pk=version.pk).update(**ModelVersion.NOT_CHALLENGER)
            # Still ready and not live: a publish or a pruning may have come in since it was checked.
            updated = ModelVersion.objects.filter(
                pk=version.pk, is_live__isnull=True, status=ModelVersion.Status.READY
            ).update(is_challenger=True, challenger_share=share, challenger_since=timezone.now())
            if not updated:
                raise PublishRefused(f"model version {version.pk} was published or archived meanwhile")
    except IntegrityError as exc:  # another challenger started at the same moment
        raise PublishRefused("another challenger was started at the same moment; try again") from exc
    version.refresh_from_db()
    return version


def challenger_stop() -> ModelVersion | None:
    """End the experiment: every user is served by the champion again. The challenger that was, if any."""
    with transaction.atomic():
        current = ModelVersion.objects.select_for_update().filter(is_challenger=True).first()
        if current is not None:
            ModelVersion.objects.filter(pk=current.pk).update(**ModelVersion.NOT_CHALLENGER)
    return current
