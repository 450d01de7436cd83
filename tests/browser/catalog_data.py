"""Small, realistic catalogs for the browser tests: genres, descriptive items, a crowd's ratings."""

import datetime as dt
import random

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


# The sign-up (Animation and Documentary, an ocean sentence) on a trained model: the crowd loves
# animated films and hardly rates documentaries, so scores alone fill the first screen with animation.
TRUST_GENRES = {
    "animation": [
        ("Toy Story", "Toys come to life when their boy leaves the room: a cowboy doll and a space ranger."),
        ("Aladdin", "A hand-drawn animated musical: a street thief, a magic lamp and a wise-cracking genie."),
        ("The Lion King", "An animated lion cub runs from his kingdom and returns to claim it."),
        ("Beauty and the Beast", "A hand-drawn animated fairy tale of a bookish girl and a cursed prince."),
        ("Pinocchio", "A wooden puppet carved by an old woodcarver longs to become a real boy."),
        ("Fantasia", "Animated shorts set to classical music: brooms, dinosaurs and dancing hippos."),
        ("The Aristocats", "An animated family of Parisian cats is rescued by a charming alley cat."),
        ("Cinderella", "A kind girl, a fairy godmother and a glass slipper, drawn by hand."),
        ("Dumbo", "A baby circus elephant with enormous ears learns that he can fly."),
        ("Wallace & Gromit: A Close Shave", "A clay-animated inventor and his dog stumble on a sheep-rustling plot."),
        ("James and the Giant Peach", "A boy sails across the ocean in a giant peach with animated insects."),
        ("The Jungle Book", "An animated boy raised by wolves meets a bear, a panther and a tiger."),
    ],
    "documentary": [
        ("Microcosmos", "A nature documentary about the insects of a French meadow, filmed up close."),
        ("The Silent World", "Divers explore the ocean floor, its coral reefs, sharks and whales."),
        ("Hoop Dreams", "A documentary following two Chicago teenagers who dream of basketball."),
        ("Crumb", "A documentary portrait of the underground cartoonist Robert Crumb and his family."),
        ("When We Were Kings", "The 1974 Ali-Foreman fight in Zaire, told with archive footage."),
        ("Atlantis", "Underwater life of the ocean: dolphins, jellyfish and manta rays, with music."),
    ],
    "comedy": [
        ("Groundhog Day", "A weatherman relives the same day again and again in a small town."),
        ("The Birdcage", "A cabaret owner and his partner pretend to be a conventional family."),
        ("Clerks", "A day in the life of two slackers working at a convenience store."),
        ("Dumb and Dumber", "Two dim-witted friends drive across the country to return a briefcase."),
        ("Ace Ventura", "A goofy pet detective hunts for a football team's kidnapped mascot."),
        ("The Mask", "A shy bank clerk finds a magic mask that turns him into a cartoonish trickster."),
        ("Mrs. Doubtfire", "A divorced father disguises himself as a nanny to see his children."),
        ("Sabrina", "The chauffeur's daughter returns from Paris and two rich brothers fall for her."),
    ],
    "crime": [
        ("Pulp Fiction", "Hitmen, a boxer and a gangster's wife cross paths in Los Angeles."),
        ("Fargo", "A car salesman hires two criminals to kidnap his wife; a pregnant police chief investigates."),
        ("The Usual Suspects", "Five criminals meet in a police line-up and plan a heist."),
        ("Reservoir Dogs", "A jewel robbery goes wrong and the surviving thieves suspect a rat."),
        ("Heat", "A master thief and an obsessive detective circle each other across Los Angeles."),
        ("The Godfather", "The aging patriarch of a mafia family hands his empire to his reluctant son."),
        ("Goodfellas", "The rise and fall of a mob associate over three decades."),
        ("Seven", "Two detectives hunt a serial killer who uses the seven deadly sins."),
    ],
}
TRUST_NAMES = {"animation": "Animation", "documentary": "Documentary", "comedy": "Comedy", "crime": "Crime"}
# How many of the crowd love each genre (each rates 6 of its films 5 and 2 others 2).
TRUST_FANS = {"animation": 24, "comedy": 8, "crime": 8, "documentary": 2}


def build_trust_catalog() -> dict[str, list]:
    """The trust scenario's categories and items (embedded on commit) and a crowd whose likes a model learns."""
    rng = random.Random(0)
    with transaction.atomic():
        for slug, name in TRUST_NAMES.items():
            Category.objects.create(slug=slug, name=name)
        items = {
            slug: [
                item_create(external_id=f"{slug}-{n}", title=title, description=text, year=1990 + n, categories=[slug])
                for n, (title, text) in enumerate(entries)
            ]
            for slug, entries in TRUST_GENRES.items()
        }
    everything = [item for entries in items.values() for item in entries]
    start = timezone.now() - dt.timedelta(days=60)
    ratings, n = [], 0
    for slug, fans in TRUST_FANS.items():
        for _ in range(fans):
            user = UserFactory(username=f"fan{n}")
            loved = rng.sample(items[slug], 6)
            others = rng.sample([item for item in everything if item not in items[slug]], 2)
            for j, (item, value) in enumerate([(i, 5.0) for i in loved] + [(i, 2.0) for i in others]):
                when = start + dt.timedelta(hours=n, minutes=j)
                ratings.append(Interaction(user=user, item=item, kind="rating", value=value, timestamp=when))
            n += 1
    Interaction.objects.bulk_create(ratings)
    return items
