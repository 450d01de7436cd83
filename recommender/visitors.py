"""Signals for someone who is not stored: a service client's visitor, described by the request.

The profile (about text, age, gender, occupation, location), the stated interests and a few items the
visitor just showed interest in become the same `UserSignals` a stored user's rows give, so the feed
is ranked by the same code (user-cold with a profile only, few-shot with context items).
"""

from dataclasses import replace

import numpy as np

from recommender.dataset import demographics_of, multi_hot
from recommender.embeddings.selectors import profile_text
from recommender.ml.data import ScoreContext, UserFeatures
from recommender.ranking import UserSignals, arrival_times
from recommender.serving import ServingState


def visitor_signals(
    *, state: ServingState, profile: dict, interests: list[tuple[int, str]], context_item_ids: list[int]
) -> UserSignals:
    """What the model can know about a visitor: profile features, interests (Category pk, name) and the
    context items (Item pks), which count as liked history. The profile text is embedded here."""
    scorer = state.scorer
    text = profile_text(profile=profile, interest_names=[name for _, name in interests])
    vector = np.zeros((1, scorer.text_dim), dtype=np.float32)
    if text:
        from recommender.embeddings.services import encoder_for

        vector[0] = encoder_for().encode([text])[0]
    features = UserFeatures(
        text=vector,
        **demographics_of([profile], state.occupation_names),
        interests=multi_hot([(0, pk) for pk, _ in interests], {0: 0}, state.category_cols, 1),
    )
    columns = scorer.item_map.index_of(list(context_item_ids), missing=-1)
    columns = np.unique(columns[columns >= 0]).astype(np.int64)
    context = ScoreContext(
        features=features,
        histories=[columns],
        history_positive=[np.ones(len(columns), dtype=bool)],
        known_users=False,
        first_time=arrival_times(np.array([np.nan])),  # arriving now
    )
    return UserSignals(
        user_id=None,
        context=context,
        users=np.array([0]),
        seen_ids=set(context_item_ids),
        liked_columns=columns,
        interests=features.interests[0],
        about=(profile.get("about") or "").strip(),
        has_demographics=profile.get("age") is not None or bool(profile.get("gender")),
    )


def with_context(*, state: ServingState, signals: UserSignals, item_ids) -> UserSignals:
    """A stored user's signals plus context items they just showed interest in (counted as liked)."""
    columns = state.scorer.item_map.index_of(list(item_ids), missing=-1)
    columns = columns[columns >= 0]
    history, positive = signals.context.histories[0], signals.context.history_positive[0]
    merged = np.union1d(history, columns).astype(np.int64)
    liked = np.union1d(np.asarray(history)[np.asarray(positive, dtype=bool)], columns).astype(np.int64)
    context = replace(signals.context, histories=[merged], history_positive=[np.isin(merged, liked)])
    liked_columns = np.union1d(signals.liked_columns, columns).astype(np.int64)
    return replace(signals, context=context, seen_ids=signals.seen_ids | set(item_ids), liked_columns=liked_columns)
