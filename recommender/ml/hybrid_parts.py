"""Which parts each regime of the hybrid blends, and the rule that picks a user's regime.

The parts themselves are in `parts/` (one class each behind one protocol); this module names the ones
that earned their place on development splits (bench/ablation.py, docs/model.md). `pop` and `demo`
(popularity, demographic-group popularity) are gone: their weight was zero, or dropping them cost
nothing, in every regime. `cpop` (popularity predicted from content) weighs nothing on ML-100K but is
what scores new items for a user with no history when the network's content path does not (a small
catalog's fit can weigh it alone), so it stays.
"""

# The artifact layout: 7 saves each part under its own name with its own version (`parts/`); 5 and 6
# kept every part's arrays side by side (read through `parts/legacy.py`).
FORMAT_VERSION = 7
PARTS = {
    "warm": ("ease", "ease_seen", "neural"),
    "item_cold": ("neural_content", "cmap", "cpop"),
    "user_cold": ("kernel", "neural"),
    "few_shot": ("kernel", "newcomer_net", "cmap", "seq", "newcomer"),
}
FEW_SHOT_MAX = 10  # the most history items a user is scored with as few-shot (trained on or not)
