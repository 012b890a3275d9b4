"""Film-like titles and release years for the generated ratings: neutral, grammatical, unique.

Each genre has some words of its own ("Vendetta" for action, "Letter" for drama), so a list of
titles reads like a video shop's shelf; no word says whether a film is good or bad, so the
titles never give away which items a model should rank first or last.
"""
from __future__ import annotations

import numpy as np

__all__ = ["GENRES", "make_titles", "make_years"]

# Genre: (share of items, position on the drama (+1) <-> action (-1) axis, chance of being a classic).
# The shares are MovieLens 100k's first-listed genres, roughly.
GENRES = {
    "Drama": (0.26, 1.0, 0.35), "Film-Noir": (0.01, 0.9, 0.95), "Documentary": (0.025, 0.8, 0.15),
    "Romance": (0.06, 0.6, 0.35), "War": (0.025, 0.4, 0.5), "Musical": (0.02, 0.3, 0.6),
    "Mystery": (0.02, 0.2, 0.35), "Crime": (0.04, 0.1, 0.3), "Comedy": (0.18, 0.0, 0.25),
    "Western": (0.015, -0.1, 0.6), "Animation": (0.015, -0.2, 0.3), "Children's": (0.04, -0.3, 0.2),
    "Fantasy": (0.01, -0.5, 0.2), "Adventure": (0.04, -0.6, 0.3), "Thriller": (0.07, -0.6, 0.15),
    "Sci-Fi": (0.035, -0.8, 0.2), "Horror": (0.04, -0.9, 0.15), "Action": (0.09, -1.0, 0.1),
}

_ADJ = ("Silent", "Last", "Dark", "Lost", "Hidden", "Wild", "Crimson", "Midnight", "Lonely", "Secret",
        "Burning", "Frozen", "Distant", "Little", "Endless", "Quiet", "Electric", "Velvet", "Stolen",
        "Restless", "Fallen", "Blue", "Final", "Strange", "Painted", "Silver", "Forgotten", "Hollow",
        "Scarlet", "Sleepless", "Reckless", "Gentle", "Northern", "Tender", "Open", "Second", "Long",
        "Winter", "Early", "Iron", "Paper", "Empty", "Urban", "Yellow", "Amber")
_NOUN = ("River", "Summer", "Heart", "City", "Road", "Night", "Garden", "Promise", "Shadow", "Island",
         "Journey", "Dream", "Horizon", "Stranger", "Mirror", "Season", "Bridge", "Fortune", "Highway",
         "Ocean", "Valley", "Crown", "Desert", "Signal", "Tide", "Orchard", "Memory", "Station", "Window",
         "Affair", "Harbour", "House", "Weekend", "Passage", "Avenue", "Evening", "Tower")
_GENRE_NOUN = {
    "Drama": ("Letter", "Witness", "Inheritance", "Confession", "Sister", "Reunion", "Harvest", "Verdict"),
    "Film-Noir": ("Alibi", "Informer", "Detour", "Suspect", "Dame", "Racket"),
    "Documentary": ("Portrait", "Chronicle", "Record", "Voices", "Expedition", "Archive"),
    "Romance": ("Kiss", "Waltz", "Sweetheart", "Rendezvous", "Honeymoon", "Serenade"),
    "War": ("Battalion", "Frontline", "Convoy", "Trench", "Regiment", "Armistice"),
    "Musical": ("Melody", "Ballroom", "Chorus", "Rhythm", "Showboat", "Overture"),
    "Mystery": ("Riddle", "Clue", "Cipher", "Manor", "Disappearance", "Puzzle"),
    "Crime": ("Heist", "Getaway", "Syndicate", "Ransom", "Hustle", "Score"),
    "Comedy": ("Wedding", "Holiday", "Roommate", "Mix-Up", "Picnic", "Vacation"),
    "Western": ("Rider", "Canyon", "Outlaw", "Frontier", "Sheriff", "Stagecoach"),
    "Animation": ("Balloon", "Kitten", "Dragon", "Lantern", "Toybox", "Rainbow"),
    "Children's": ("Puppy", "Treehouse", "Adventure", "Pony", "Camp", "Magic"),
    "Fantasy": ("Kingdom", "Sorcerer", "Amulet", "Realm", "Prophecy", "Quest"),
    "Adventure": ("Voyage", "Treasure", "Jungle", "Expedition", "Lagoon", "Compass"),
    "Thriller": ("Pursuit", "Conspiracy", "Hostage", "Stalker", "Countdown", "Target"),
    "Sci-Fi": ("Planet", "Orbit", "Android", "Galaxy", "Colony", "Reactor"),
    "Horror": ("Curse", "Haunting", "Crypt", "Nightmare", "Beast", "Séance"),
    "Action": ("Vendetta", "Strike", "Thunder", "Showdown", "Blast", "Impact"),
}
_PLURAL = ("Nights", "Rivers", "Shadows", "Strangers", "Angels", "Letters", "Secrets", "Dreams",
           "Streets", "Wolves", "Riders", "Sisters", "Brothers", "Ghosts", "Stars", "Days", "Bridges",
           "Wings", "Summers", "Waves")
_PLACE = ("Paris", "Tokyo", "Chicago", "Berlin", "Havana", "Cairo", "Lisbon", "Memphis", "Vienna",
          "Bombay", "Dublin", "Marseille", "Texas", "Alaska", "Manhattan", "Naples", "Oslo", "Rio",
          "Montana", "Shanghai", "Tangier", "Venice", "Kansas", "Bangkok")
_NAME = ("Annie", "Harry", "Rosa", "Jack", "Lola", "Max", "Nora", "Oscar", "Ruby", "Sam", "Vera",
         "Walter", "Edith", "Frank", "Iris", "Leo", "Mabel", "Felix", "Greta", "Otto")
# {a}: an adjective, {n}: a noun, {s}: a plural noun, {p}: a place, {m}: a first name.
_TEMPLATES = ("The {a} {n}", "{a} {n}", "The {n} of {p}", "{m}'s {n}", "{an} {n} in {p}",
              "Return to {p}", "{a} {n} in {p}", "{m} and the {a} {n}", "{a} {s}", "The {a} {s}",
              "{s} of {p}", "{an} {a} {n}", "The {n}", "{n} in {p}")
_SMALL = {"a", "an", "and", "at", "in", "of", "the", "to"}


def _article(word: str) -> str:
    """``A`` or ``An`` before ``word`` (none of the words here starts with a silent h or a 'you' sound)."""
    return "An" if word[0] in "AEIOU" else "A"


def _title_case(title: str) -> str:
    """Capitalise every word but the small ones (articles, short prepositions) after the first."""
    words = title.split(" ")
    return " ".join(w if i == 0 or w.lower() not in _SMALL else w.lower() for i, w in enumerate(words))


def _one(rng: np.random.Generator, genre: str) -> str:
    """One title in the style of ``genre``: its own nouns more often than not."""
    nouns = _GENRE_NOUN[genre] if rng.random() < 0.6 else _NOUN
    pick = lambda words: words[rng.integers(len(words))]  # noqa: E731
    a, n = pick(_ADJ), pick(nouns)
    template = pick(_TEMPLATES)
    # "{an} {n}" takes the article of the noun, "{an} {a} {n}" that of the adjective.
    first = a if template.startswith("{an} {a}") else n
    return _title_case(template.format(a=a, n=n, s=pick(_PLURAL), p=pick(_PLACE), m=pick(_NAME),
                                       an=_article(first)))


def make_titles(rng: np.random.Generator, genres, years) -> list[str]:
    """A distinct title for each item, ``"Title (year)"``, no title used twice even across years."""
    seen: set[str] = set()
    out = []
    for genre, year in zip(genres, years):
        while (title := _one(rng, genre)) in seen:
            pass
        seen.add(title)
        out.append(f"{title} ({year})")
    return out


def make_years(rng: np.random.Generator, genres) -> np.ndarray:
    """Release years skewed to the 1990s as MovieLens 100k's are, with a genre's share of classics."""
    classic = rng.random(len(genres)) < np.array([GENRES[g][2] for g in genres])
    recent = 1997 - np.minimum(rng.exponential(2.5, len(genres)).astype(int), 17)  # 1980-1997
    old = 1989 - np.minimum(rng.exponential(16.0, len(genres)).astype(int), 63)    # 1926-1989
    return np.where(classic, old, recent)
