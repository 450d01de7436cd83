"""A small, realistic catalog for the browser tests: five genres, descriptive items, some popularity."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from catalog.models import Category, Interaction
from catalog.services import item_create
from tests.factories import UserFactory

GENRES = {
    "sci-fi": [
        ("Orbit of Silence", "A stranded astronaut repairs a derelict space station orbiting Jupiter."),
        ("The Last Colony", "Settlers on Mars fight to keep their terraforming domes alive."),
        ("Quantum Drift", "A physicist slips between parallel timelines after a reactor test."),
        ("Starlight Armada", "A galactic fleet races to stop an alien invasion at the edge of the galaxy."),
        ("Android Dreams", "A household robot wakes up with memories that are not its own."),
        ("Cryosleep", "The crew of a generation starship wakes centuries too early."),
    ],
    "horror": [
        ("The Hollow House", "A family moves into a haunted house where the ghosts want them gone."),
        ("Night of the Crawlers", "Something with too many legs hunts the night shift in the sewers."),
        ("Bloodmoon Asylum", "Patients of an abandoned asylum are possessed under a red moon."),
        ("Whispers in the Fog", "A fishing village is cursed by a demon that speaks through the fog."),
        ("The Ninth Grave", "Zombies rise from a cemetery after a forbidden ritual."),
        ("Do Not Open", "A cursed box unleashes a slasher on a college campus."),
    ],
    "comedy": [
        ("Wedding Crashers Club", "Two best friends bluff their way into every wedding in town."),
        ("My Neighbour the Chef", "A grumpy chef and a noisy neighbour start a hilarious feud."),
        ("Office Chaos", "A clumsy intern accidentally becomes the company's boss for a week."),
        ("Road Trip Mayhem", "Three siblings, one van and a goat on a disastrous holiday."),
        ("The Talent Show", "A small-town talent show goes gloriously wrong."),
        ("Laugh Track", "A sitcom writer wakes up inside her own sitcom."),
    ],
    "romance": [
        ("Letters from Paris", "Two strangers fall in love through letters left in a bookshop."),
        ("Summer by the Lake", "Childhood sweethearts meet again at a lakeside wedding."),
        ("A Second Chance", "A widowed baker finds love with a travelling musician."),
        ("Midnight Waltz", "A ballroom dancer and a shy pianist share one magical season."),
        ("Love in Lisbon", "A tour guide and a tourist spend a romantic week in Lisbon."),
        ("The Proposal Plan", "A wedding planner plots her own perfect proposal."),
    ],
    "documentary": [
        ("Secrets of the Reef", "Marine biologists film the hidden life of a coral reef."),
        ("The Bread Makers", "Bakers across Europe share the craft of sourdough."),
        ("Mountain Rail", "The engineers who built a railway through the Alps."),
        ("Voices of Jazz", "The history of jazz told by the musicians who made it."),
        ("Desert Bloom", "A year of rain and flowers in the Atacama desert."),
        ("Inside the Hive", "Beekeepers and scientists follow a single honeybee colony."),
    ],
}
NAMES = {"sci-fi": "Sci-Fi", "horror": "Horror", "comedy": "Comedy", "romance": "Romance", "documentary": "Documentary"}
# The crowd has rated only these genres: a popularity-only feed leads with them, not with the user's picks.
POPULAR_GENRES = ("comedy", "romance", "documentary")


def build_catalog() -> dict[str, list]:
    """Create the categories and items (through the service, so they get embedded) and a crowd's ratings."""
    # One transaction: the embedding work is queued once, on commit, as a single batch.
    with transaction.atomic():
        for slug, name in NAMES.items():
            Category.objects.create(slug=slug, name=name)
        items = {}
        for slug, entries in GENRES.items():
            items[slug] = [
                item_create(external_id=f"{slug}-{n}", title=title, description=text, year=2000 + n, categories=[slug])
                for n, (title, text) in enumerate(entries)
            ]
    crowd = [UserFactory(username=f"crowd{n}") for n in range(4)]
    start = timezone.now() - dt.timedelta(days=30)
    ratings = [
        Interaction(user=user, item=item, kind=Interaction.Kind.RATING, value=4.0, timestamp=start)
        for slug in POPULAR_GENRES
        for item in items[slug]
        for user in crowd
    ]
    Interaction.objects.bulk_create(ratings)  # history, as an import would write it
    return items
