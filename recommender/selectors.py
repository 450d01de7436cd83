"""Reads for recommendations: the interface the API and the site use.

With a live model the feed is ranked by the hybrid scorer (fold-in of the user's current history, new
items scored from content); without one, or when a ranking comes back short, it is filled from
trending / popular-with-people-like-you / popular items, so a feed is never empty.
"""

from dataclasses import dataclass

from django.db.models import Count

from accounts.models import Profile, User
from catalog.models import Interaction, Item
from recommender import fallbacks, ranking, visitors
from recommender.serving import challenger_serving, serving_state

CARD_FIELDS = ("id", "external_id", "title", "year", "is_active")


@dataclass(frozen=True)
class Recommendation:
    item: Item
    score: float
    reason: str


class Feed(list):
    """A user's ranked Recommendations, and how they were made (what `impressions_record` stores)."""

    def __init__(
        self, items=(), *, user_id: int | None = None, version_id: int | None = None, regime: str = "fallback"
    ):
        super().__init__(items)
        self.user_id, self.version_id, self.regime = user_id, version_id, regime


def _materialise(ranked: list[ranking.Ranked]) -> list[Recommendation]:
    # The fields a card or ItemBriefSerializer shows (not the description and attributes: they can be long).
    items = Item.objects.only(*CARD_FIELDS).prefetch_related("categories").in_bulk([r.item_id for r in ranked])
    return [Recommendation(item=items[r.item_id], score=r.score, reason=r.reason) for r in ranked if r.item_id in items]


def _pad(ranked: list[ranking.Ranked], *, user, k: int, category, seen: set[int]) -> list[ranking.Ranked]:
    """Fill a short list: trending, then popular with people like you, then popular."""
    sources = [(fallbacks.trending_ids, "Trending now")]
    if user is not None:
        sources.append((lambda **kw: fallbacks.similar_people_ids(user=user, **kw), "Popular with people like you"))
    sources.append((fallbacks.popular_ids, "Popular right now"))
    for source, reason in sources:
        if len(ranked) >= k:
            break
        taken = seen | {r.item_id for r in ranked}
        ids = source(k=k - len(ranked), category=category, exclude_ids=taken)
        ranked += [ranking.Ranked(pk, 0.0, reason) for pk in ids if pk not in taken]
    return ranked[:k]


def ranked_items(*, item_ids, reason: str) -> list[Recommendation]:
    """These items, in this order, all with the same reason (a list ranked outside the model)."""
    return _materialise([ranking.Ranked(pk, 0.0, reason) for pk in item_ids])


def popular_items(*, k: int = 20, category: str | None = None, exclude_ids=()) -> list[Recommendation]:
    """Most liked active items (optionally in one category slug), best first."""
    ids = fallbacks.popular_ids(k=k, category=category, exclude_ids=exclude_ids)
    return ranked_items(item_ids=ids, reason="Popular right now")


def recommendations_for_user(
    *, user, k: int = 20, category: str | None = None, exclude_seen: bool = True, context_item_ids=()
) -> Feed:
    """Top-k active items for this user (None or anonymous: trending and popular), never seen before
    unless exclude_seen is off. context_item_ids: items the user just showed interest in that are not
    stored yet (a service client's inline context); they count as liked history.

    With a live model: the user's profile, vector and history in two queries, the items in two.
    """
    if user is None or not user.is_authenticated:
        return Feed(_materialise(_pad([], user=None, k=k, category=category, seen=set())))
    state = serving_state(user_id=user.pk)  # the challenger's, for the users in its share
    if state is None:
        seen = set(Interaction.objects.filter(user=user).values_list("item_id", flat=True)) | set(context_item_ids)
        interests = list(user.profile.interests.values_list("slug", "name")) if hasattr(user, "profile") else []
        seen = seen if exclude_seen else set()
        ranked = _interest_first(interests=interests, k=k, category=category, seen=seen)
        return Feed(_materialise(_pad(ranked, user=user, k=k, category=category, seen=seen)), user_id=user.pk)
    signals = ranking.user_signals(state=state, user=user)
    return _ranked_feed(
        state, signals, user=user, k=k, category=category, exclude_seen=exclude_seen, context=context_item_ids
    )


def recommendations_for_external_id(
    *, external_id: str, k: int = 20, category: str | None = None, exclude_seen: bool = True, context_item_ids=()
) -> Feed | None:
    """`recommendations_for_user` for the user whose profile has this external id; None when no one
    has it. With a live model the profile is read by external id, so this costs no query more (one
    more while a challenger serves some users: which arm serves this one)."""
    state = serving_state()
    if state is None:
        profile = Profile.objects.select_related("user").filter(external_id=external_id).first()
        if profile is None:
            return None
        user = profile.user
        return recommendations_for_user(
            user=user, k=k, category=category, exclude_seen=exclude_seen, context_item_ids=context_item_ids
        )
    if challenger_serving():  # which arm serves this user: one query more, only during an experiment
        user_id = Profile.objects.filter(external_id=external_id).values_list("user_id", flat=True).first()
        if user_id is None:
            return None
        state = serving_state(user_id=user_id)
    signals = ranking.user_signals(state=state, external_id=external_id)
    if signals is None:
        return None
    user = User(pk=signals.user_id)  # stands for the account (its pk is all the feed reads from it)
    return _ranked_feed(
        state, signals, user=user, k=k, category=category, exclude_seen=exclude_seen, context=context_item_ids
    )


def recommendations_for_visitor(
    *, profile: dict, interests: list, k: int = 20, category: str | None = None, context_item_ids=()
) -> Feed:
    """Top-k for someone not stored, from what the request says: profile values (about, age, gender,
    occupation, location), interests (Category objects) and context items (Item pks, counted as liked).
    The cold-start feed a new user with that profile would get; the context items are never shown."""
    state = serving_state()
    seen = set(context_item_ids)
    if state is None:
        pairs = [(c.slug, c.name) for c in interests]
        ranked = _interest_first(interests=pairs, k=k, category=category, seen=seen)
        return Feed(_materialise(_pad(ranked, user=None, k=k, category=category, seen=seen)))
    signals = visitors.visitor_signals(
        state=state, profile=profile, interests=[(c.pk, c.name) for c in interests], context_item_ids=list(seen)
    )
    return _ranked_feed(state, signals, user=None, k=k, category=category, exclude_seen=True)


def _ranked_feed(state, signals, *, user, k: int, category, exclude_seen: bool, context=()) -> Feed:
    """Rank a stored user's feed from their signals, plus `context` (Item pks just shown interest in)."""
    if context:
        signals = visitors.with_context(state=state, signals=signals, item_ids=context)
    in_category = None
    if category:
        in_category = set(Item.objects.filter(categories__slug=category).values_list("id", flat=True))
    ranked = ranking.rank_feed(
        state=state, user=user, k=k, only_item_ids=in_category, exclude_seen=exclude_seen, signals=signals
    )
    seen = signals.seen_ids if exclude_seen else set()
    regime = str(state.scorer.regimes(signals.context)[0])
    recommendations = _materialise(_pad(ranked, user=user, k=k, category=category, seen=seen))
    return Feed(recommendations, user_id=signals.user_id, version_id=state.version_id, regime=regime)


def _interest_first(*, interests: list[tuple[str, str]], k: int, category, seen: set[int]) -> list[ranking.Ranked]:
    """Without a model: the most liked items of these stated interests ((slug, name) pairs)."""
    ranked = []
    for slug, name in interests:
        if category and slug != category:
            continue
        taken = seen | {r.item_id for r in ranked}
        ids = fallbacks.popular_ids(k=k, category=slug, exclude_ids=taken)
        ranked += [
            ranking.Ranked(pk, 0.0, f"Matches your interest in {name}") for pk in ids[: max(1, k // len(interests))]
        ]
    return ranked[:k]


def similar_items(*, item: Item, k: int = 10) -> list[Recommendation]:
    """Active items closest to this one in content (and learned audience, for items the model knows)."""
    state = serving_state()
    ranked = ranking.rank_similar(state=state, item_id=item.pk, k=k) if state is not None else []
    if len(ranked) < k:  # no model yet, or a brand-new item: same categories, most liked first
        taken = {item.pk} | {r.item_id for r in ranked}
        same = (
            Item.objects.filter(is_active=True, categories__in=item.categories.all())
            .exclude(id__in=taken)
            .annotate(shared=Count("categories", distinct=True), n=Count("interactions", distinct=True))
            .order_by("-shared", "-n", "id")
            .values_list("id", flat=True)[: k - len(ranked)]
        )
        ranked += [ranking.Ranked(pk, 0.0, "In the same categories") for pk in same]
    return _materialise(ranked[:k])


def also_liked(*, item: Item, k: int = 10) -> list[Recommendation]:
    """Items liked by the people who liked this one."""
    state = serving_state()
    ranked = ranking.rank_also_liked(state=state, item_id=item.pk, k=k) if state is not None else []
    if not ranked:  # no model, or an item it has not seen: count co-likes in the database
        likers = Interaction.objects.filter(fallbacks.POSITIVE, item=item).values("user_id")
        rows = (
            Interaction.objects.filter(fallbacks.POSITIVE, user_id__in=likers, item__is_active=True)
            .exclude(item=item)
            .values("item_id")
            .annotate(n=Count("id"))
            .order_by("-n", "item_id")[:k]
        )
        ranked = [ranking.Ranked(r["item_id"], float(r["n"]), "Liked by the same people") for r in rows]
    return _materialise(ranked)
