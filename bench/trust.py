"""Feeds people trust, through the feed's own code path on an ML-100K model: interest coverage, diversity,
catalog coverage and the "about" probe, with the interest re-ranking off and on in the same run.

    .venv/bin/python bench/trust.py [--database-url mysql://root@127.0.0.1:3306/bench_trust] [--users 200]

Builds its database on the first run (ML-100K imported, embedded and trained: a few minutes). Then:
- Interest coverage@10: for --users imported users, a newcomer who states 2 or 3 interests drawn from
  the categories of what that user liked (weighted by how often), with the user's demographics, first
  with no interactions, then with the user's first 3 likes. Share of stated interests present in the
  top 10 (`recommendations_for_user`), with FEED_INTEREST_COVERAGE 0 (scores alone) and 10.
- Intra-list diversity (mean pairwise 1 - cosine of the top 10's text vectors) and catalog coverage
  (distinct items in all those top 10s / active items), both settings.
- The about probe: 30 sentences describing a kind of film (no interests ticked), each labelled with
  the categories it describes: share of the top 10 in a described category for the hybrid with the
  sentence, the hybrid without it (the same user, no text) and popularity.
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed_http import ensure_trained, manage, server_env  # noqa: E402

ABOUT = [
    ("I love hand-drawn animated films and cartoons for the whole family", {"Animation", "Children's"}),
    ("Nature documentaries about the ocean and the animals that live there", {"Documentary"}),
    ("Gritty crime stories about gangsters, heists and corrupt cops", {"Crime", "Film-Noir"}),
    ("Slow-burning thrillers where nobody can be trusted", {"Thriller", "Mystery", "Film-Noir"}),
    ("Space ships, robots, aliens and time travel", {"Sci-Fi"}),
    ("Old Hollywood musicals full of singing and dancing", {"Musical"}),
    ("Romantic comedies where two people fall in love", {"Romance", "Comedy"}),
    ("Scary movies with ghosts, monsters and haunted houses", {"Horror"}),
    ("Cowboys, gunfights and the wild frontier", {"Western"}),
    ("Epic war films about soldiers and great battles", {"War"}),
    ("Detective mysteries with a clever twist at the end", {"Mystery", "Crime"}),
    ("Wizards, dragons, magic kingdoms and fairy tales", {"Fantasy", "Children's", "Animation"}),
    ("Big explosions, car chases and non-stop action heroes", {"Action"}),
    ("Adventures to faraway lands in search of treasure", {"Adventure"}),
    ("Silly slapstick comedies that make me laugh out loud", {"Comedy"}),
    ("Serious dramas about families and the choices people make", {"Drama"}),
    ("Dark black-and-white films about private eyes and femmes fatales", {"Film-Noir", "Crime", "Mystery"}),
    ("Films about real events and real people, told as they happened", {"Documentary", "Drama", "War"}),
    ("Tearjerkers: love stories that end in heartbreak", {"Romance", "Drama"}),
    ("Alien invasions and the end of the world", {"Sci-Fi", "Action", "Thriller"}),
    ("Movies I can watch with my young kids", {"Children's", "Animation", "Comedy"}),
    ("Serial killers, psychopaths and the detectives who hunt them", {"Thriller", "Crime", "Horror"}),
    ("Musicians, bands and the story of rock and roll", {"Musical", "Documentary", "Drama"}),
    ("Knights, pirates and swashbuckling sword fights", {"Adventure", "Action"}),
    ("Courtroom dramas and lawyers fighting for justice", {"Drama", "Crime"}),
    ("Zombies, vampires and blood-soaked horror", {"Horror"}),
    ("Heartwarming stories about talking animals", {"Children's", "Animation"}),
    ("Spies, secret agents and international espionage", {"Action", "Thriller"}),
    ("Screwball comedies from the golden age of cinema", {"Comedy", "Romance"}),
    ("Soldiers coming home from Vietnam and what the war did to them", {"War", "Drama"}),
    ("Outlaws and sheriffs in dusty desert towns", {"Western"}),
    ("Mind-bending science fiction about dreams and reality", {"Sci-Fi", "Thriller", "Mystery"}),
]

# Development sentences, for choosing settings; the test sentences above are for reporting only.
DEV_ABOUT = [
    ("Funny movies about friends on a road trip", {"Comedy", "Adventure"}),
    ("Ghost stories that keep me awake at night", {"Horror", "Thriller"}),
    ("Robots and artificial intelligence taking over", {"Sci-Fi", "Action", "Thriller"}),
    ("Cartoon animals and princesses singing songs", {"Animation", "Children's", "Musical"}),
    ("The Second World War from the point of view of ordinary soldiers", {"War", "Drama", "Action"}),
    ("A lonely gunslinger rides into town", {"Western"}),
    ("Whodunits set in English country houses", {"Mystery", "Crime"}),
    ("Bank robberies that go wrong", {"Crime", "Thriller", "Action"}),
    ("Couples meeting by chance in a big city and falling in love", {"Romance", "Comedy", "Drama"}),
    ("Broadway shows turned into films, with big song and dance numbers", {"Musical"}),
    ("Documentaries about artists, politics and history", {"Documentary"}),
    ("Elves, quests and enchanted swords", {"Fantasy", "Adventure"}),
    ("Hard-boiled detectives in rainy 1940s Los Angeles", {"Film-Noir", "Crime", "Mystery"}),
    ("Martial arts fights and kung fu masters", {"Action"}),
    ("Moving family dramas about growing up", {"Drama"}),
    ("Creature features about giant monsters attacking cities", {"Horror", "Sci-Fi", "Action"}),
]

PROBE = r"""
import json
import numpy as np
from django.db.models import Count
from django.test import override_settings
from accounts.models import Profile, User
from accounts.services import profile_update
from catalog.models import Category, Interaction, Item
from catalog.services import interaction_record
from recommender import ranking, rerank, selectors
from recommender.serving import serving_state

N_USERS, ABOUT, LIFTS = ARGS
rng = np.random.default_rng(0)
categories = {c.name: c for c in Category.objects.all()}
state = serving_state()
column = {int(pk): i for i, pk in enumerate(state.item_pks)}
User.objects.filter(username__startswith="trust-").delete()  # an earlier run's newcomers


def top10(user):
    recs = selectors.recommendations_for_user(user=user, k=10)
    return [(r.item.pk, {c.name for c in r.item.categories.all()}) for r in recs]


def diversity(pks):
    vectors = state.text[[column[pk] for pk in pks if pk in column]]
    sims = vectors @ vectors.T
    n = len(vectors)
    return float(1 - (sims.sum() - np.trace(sims)) / (n * (n - 1))) if n > 1 else 0.0


users = User.objects.filter(username__startswith="ext-").annotate(n=Count("interactions")).filter(n__gte=20)
users = list(users.order_by("pk"))
picks = rng.choice(len(users), min(N_USERS, len(users)), replace=False)
newcomers = []
for i in picks:
    source = users[i]
    liked = Interaction.objects.filter(user=source, value__gte=4).order_by("timestamp", "id")
    liked = list(liked.values_list("item_id", flat=True))
    counts = {}
    for names in Item.categories.through.objects.filter(item_id__in=liked).values_list("category__name", flat=True):
        counts[names] = counts.get(names, 0) + 1
    counts.pop("unknown", None)
    names = sorted(counts)
    if len(names) < 2:  # liked nothing, or one kind of film only: no 2 interests to state
        continue
    p = np.array([counts[n] for n in names], dtype=float)
    stated = list(rng.choice(names, min(len(names), int(rng.integers(2, 4))), replace=False, p=p / p.sum()))
    profile = Profile.objects.get(user=source)
    for kind in ("cold", "few"):
        user = User.objects.create(username=f"trust-{kind}-{source.pk}")
        profile_update(user=user, age=profile.age, gender=profile.gender, occupation=profile.occupation,
                       interests=[categories[n] for n in stated], onboarded=True)
        if kind == "few":
            for pk in liked[:3]:
                interaction_record(user=user, item=Item.objects.get(pk=pk), kind="like")
        newcomers.append((kind, user, set(stated)))

out = {"coverage": {}, "diversity": {}, "catalog": {}}
active = Item.objects.filter(is_active=True).count()
for window in (0, 10) if newcomers else ():
    with override_settings(FEED_INTEREST_COVERAGE=window):
        for kind in ("cold", "few"):
            shares, divs, shown = [], [], set()
            for k, user, stated in newcomers:
                if k != kind:
                    continue
                top = top10(user)
                present = set().union(*(cats for _, cats in top))
                shares.append(len(stated & present) / len(stated))
                divs.append(diversity([pk for pk, _ in top]))
                shown.update(pk for pk, _ in top)
            out["coverage"][f"{kind} {window}"] = float(np.mean(shares))
            out["diversity"][f"{kind} {window}"] = float(np.mean(divs))
            out["catalog"][f"{kind} {window}"] = len(shown) / active

blank = User.objects.create(username="trust-blank")
profile_update(user=blank, onboarded=True)
without = top10(blank)
popular = [(r.item.pk, {c.name for c in r.item.categories.all()}) for r in selectors.popular_items(k=10)]
writers = []
for n, (sentence, labels) in enumerate(ABOUT):
    user = User.objects.create(username=f"trust-about-{n}")
    profile_update(user=user, about=sentence, onboarded=True)
    writers.append((user, set(labels)))
out["about"] = {}
for variant in LIFTS:
    for name, value in variant.items():
        setattr(rerank if hasattr(rerank, name) else ranking, name, value)
    lift = ",".join(f"{k}={v}" for k, v in variant.items())
    share = lambda top, labels: sum(bool(cats & labels) for _, cats in top) / max(len(top), 1)
    probe = [(share(top10(user), labels), share(without, labels), share(popular, labels)) for user, labels in writers]
    out["about"][lift] = {"mean": [float(x) for x in np.mean(probe, axis=0)], "each": [p[0] for p in probe]}
User.objects.filter(username__startswith="trust-").delete()
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1:3306/bench_trust")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument(
        "--variants", default="ABOUT_LIFT=1", help="ranking constants per variant, e.g. 'ABOUT_LIFT=1;ABOUT_LIFT=2'"
    )
    parser.add_argument("--dev", action="store_true", help="the about probe on the development sentences only")
    args = parser.parse_args()
    env = {**server_env(args.database_url), "CELERY_BROKER_URL": ""}
    ensure_trained(env, args.database_url)
    sentences = DEV_ABOUT if args.dev else ABOUT
    users = 0 if args.dev else args.users
    lifts = [
        {name: float(value) for name, value in (pair.split("=") for pair in variant.split(","))}
        for variant in args.variants.split(";")
    ]
    snippet = PROBE.replace("ARGS", repr((users, [(s, sorted(c)) for s, c in sentences], lifts)))
    result = json.loads(manage(env, "shell", "-c", snippet).strip().splitlines()[-1])
    if users:
        print(f"{users} imported users as newcomers stating 2-3 of the categories they liked (ML-100K model)")
        print("| newcomers | interest coverage@10 | intra-list diversity | catalog coverage |")
        print("|---|---|---|---|")
        for kind, label in (("cold", "profile only"), ("few", "profile + first 3 likes")):
            metrics = ("coverage", "diversity", "catalog")
            cells = [f"{result[m][f'{kind} 0']:.3f} → {result[m][f'{kind} 10']:.3f}" for m in metrics]
            print(f"| {label} | " + " | ".join(cells) + " |")
        print("(scores alone → with FEED_INTEREST_COVERAGE=10)")
    which = "development" if args.dev else "test"
    print(f"about probe ({len(sentences)} {which} sentences, no interests): top-10 share in a described category:")
    for lift, figures in result["about"].items():
        with_text, without_text, popular = figures["mean"]
        print(f"  {lift}: with the text {with_text:.3f}, without {without_text:.3f}, popular {popular:.3f}")
        worst = sorted(zip(figures["each"], (s for s, _ in sentences), strict=True))[:3]
        print("    weakest: " + "; ".join(f"{share:.1f} {sentence!r}" for share, sentence in worst))
    print(f"reproduce: .venv/bin/python bench/trust.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
