"""The parts of the hybrid, each one class behind the `Part` protocol (`base.py`).

PART_TYPES is the registry: adding or removing a part is its class plus one line here (and its name in
the blends of `hybrid_parts.PARTS`). Its order is the order the blend-weight search visits the outputs.
"""

from recommender.ml.parts.base import Catalog, Part, Pass, Training
from recommender.ml.parts.content import ContentMap, ContentPopularity
from recommender.ml.parts.item_item import Ease, EaseSeen, LikedLater
from recommender.ml.parts.kernel import Kernel
from recommender.ml.parts.newcomer import Newcomer, NewcomerNetwork
from recommender.ml.parts.two_tower import TwoTowerPart

PART_TYPES: tuple[type[Part], ...] = (
    TwoTowerPart,
    Ease,
    EaseSeen,
    LikedLater,
    NewcomerNetwork,
    Newcomer,
    ContentMap,
    ContentPopularity,
    Kernel,
)
PART_BY_NAME = {kind.name: kind for kind in PART_TYPES}
# Each output (the name a blend weighs) and the part that gives it, in the search's order.
PART_OF = {output: kind.name for kind in PART_TYPES for output in kind.outputs}
OUTPUTS = tuple(PART_OF)

__all__ = ["Catalog", "OUTPUTS", "PART_BY_NAME", "PART_OF", "PART_TYPES", "Part", "Pass", "Training"]
