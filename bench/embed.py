"""Embedding throughput: our Encoder against SentenceTransformer.encode on the same model and texts.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/embed.py [--n 10000] [--batch-size 64] [--repeats 2]

The texts are ML-100K item texts (title, genres, year in the default ITEM_TEXT_TEMPLATE format),
repeated with a varying suffix until there are --n distinct texts. Both encoders get the same
batch size, device and thread count; each is warmed up, then the two are timed in turn
--repeats times and each one's best run is kept.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from recommender.ml.encoder import get_encoder  # noqa: E402
from recommender.ml.text import item_text  # noqa: E402

TEMPLATE = "{title}. {categories}. {year}. {description} {attributes}"
VARIANTS = ["", "Director's cut", "Remastered edition", "Extended version with commentary", "Dubbed", "Restored"]


def ml100k_texts(n: int, path: Path = ROOT / "data" / "ml-100k" / "ml-100k.item") -> list[str]:
    """n distinct item texts: every ML-100K film, then again with a varying description."""
    films = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        next(handle)
        for line in handle:
            _, title, year, genres = (line.rstrip("\n").split("\t") + ["", "", ""])[:4]
            films.append((title, genres.split(), int(year) if year.isdigit() else None))
    texts, round_ = {}, 0  # a dict keeps the first of any duplicate title (ML-100K has a few)
    while len(texts) < n:
        for title, genres, year in films:
            description = VARIANTS[round_ % len(VARIANTS)] + (f" #{round_}" if round_ else "")
            texts[item_text(TEMPLATE, title=title, categories=genres, year=year, description=description)] = None
        round_ += 1
    return list(texts)[:n]


def timed(run) -> tuple[float, float, np.ndarray]:
    """(wall seconds, CPU seconds of this process, result): CPU time barely moves when others load the box."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="")
    args = parser.parse_args()

    texts = ml100k_texts(args.n)
    assert len(set(texts)) == len(texts), "benchmark texts must be distinct"
    encoder = get_encoder("", args.device)
    st = encoder._st  # the very same loaded SentenceTransformer: same weights, device and dtype

    def ours():
        return encoder.encode(texts, batch_size=args.batch_size)

    def theirs():
        return st.encode(texts, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True)

    encoder.encode(texts[:256], batch_size=args.batch_size)  # warm-up
    st.encode(texts[:256], batch_size=args.batch_size)
    # Alternate the two so that a burst of load from elsewhere hits both alike; keep each one's best.
    ours_s = theirs_s = ours_cpu = theirs_cpu = float("inf")
    for _ in range(args.repeats):
        seconds, cpu, ours_vec = timed(ours)
        ours_s, ours_cpu = min(ours_s, seconds), min(ours_cpu, cpu)
        seconds, cpu, theirs_vec = timed(theirs)
        theirs_s, theirs_cpu = min(theirs_s, seconds), min(theirs_cpu, cpu)
    n = len(texts)
    ours_rate, theirs_rate = n / ours_s, n / theirs_s
    max_diff = float(np.abs(ours_vec - theirs_vec.astype(np.float32)).max())
    import torch

    print(f"model={encoder.model_name} device={encoder.device} threads={torch.get_num_threads()} n={len(texts)}")
    print(f"ours (Encoder.encode):             {ours_rate:8.1f} items/s  {n / ours_cpu:8.1f} items/CPU-s")
    print(f"SentenceTransformer.encode:        {theirs_rate:8.1f} items/s  {n / theirs_cpu:8.1f} items/CPU-s")
    print(f"ratio ours/sentence-transformers:  {ours_rate / theirs_rate:8.2f}x      {theirs_cpu / ours_cpu:8.2f}x")
    print(f"max |difference| between vectors:  {max_diff:.2e}")


if __name__ == "__main__":
    main()
