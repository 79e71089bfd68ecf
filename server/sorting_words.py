"""Words for the sorting help: a theme's title and the reason, from what its notes share.

Honest by construction: a word is named only when at least two of the theme's notes use it
(after a light Dutch/English stemming); where they share no word, the reason says that the
notes agree in meaning and quotes the most typical one instead of inventing a topic.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)

STOP = frozenset("""
aan achter af al alle alleen als altijd ander andere anders ben bij bijvoorbeeld binnen
daar daarom dan dat de deze die dit doe doen door dus echt een eens eigen elk en er erg
even geen gewoon graag had heb hebben heeft hem het hier hij hoe hun iedereen iemand iets
ik in is ja je jij jou jullie kan kun kunnen laat maar me meer men met mij mijn mn moet
moeten na naar niet niets nog nooit nou nu of om omdat ons onze ook op over te tegen toch
tot u uit van veel voor waar wanneer want waren was wat we weer wel welk welke werd wie
wij wil willen word worden wordt zal ze zeer zij zijn zo zoals zou zonder zelf zoveel
dient worden graag aub svp plek plekken manier beetje heel best
the and for with that this there are was were not but you your our its too very would
please more some any have has all just like into from near only every
""".split())

# Suffixes folded so that "bomen"/"boom" and "fietsen"/"fiets" meet; longest first.
SUFFIXES = ("tjes", "jes", "etje", "tje", "en", "es", "je", "s", "e")


def fold(text: str) -> str:
    """Lower case without accents ("Creëer" → "creeer")."""
    norm = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in norm if not unicodedata.combining(c))


def stem(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    # Dutch doubles a vowel's consonant before -en ("bussen" → "buss"): undo it.
    if len(word) >= 5 and word[-1] == word[-2]:
        word = word[:-1]
    return word


def words(text: str) -> list[tuple[str, str]]:
    """(stem, surface form) for each content word of a note, each stem once."""
    seen: dict[str, str] = {}
    for match in WORD.finditer(fold(text)):
        surface = match.group(0)
        if surface in STOP:
            continue
        seen.setdefault(stem(surface), surface)
    return list(seen.items())


def shared_words(texts: Sequence[str], corpus_df: Counter[str], corpus_n: int,
                 limit: int = 3) -> list[str]:
    """The words most typical of these notes: used in at least two of them (and in at
    least a quarter of them for a big theme), ranked by how much more often they occur
    here than in all the notes."""
    count: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        for st, surface in words(text):
            count[st] += 1
            forms.setdefault(st, Counter())[surface] += 1
    need = max(2, -(-len(texts) // 4))
    # A word must be at least twice as common here as in all the notes ("plein" in a
    # workshop about the square says nothing about why these notes go together).
    rate = corpus_n / len(texts)
    ranked = sorted(
        (st for st, c in count.items()
         if c >= need and c * rate >= 2 * corpus_df.get(st, c)),
        key=lambda st: (-count[st] * (corpus_n + 1) / (corpus_df.get(st, 0) + 1), st),
    )
    return [forms[st].most_common(1)[0][0] for st in ranked[:limit]]


def document_frequency(texts: Sequence[str]) -> Counter[str]:
    df: Counter[str] = Counter()
    for text in texts:
        df.update(st for st, _ in words(text))
    return df


def shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:!?") + "…"


def title_for(keywords: Sequence[str], central: str, language: str) -> str:
    """Two shared words ("Schaduw en bomen"), else the most typical note, shortened."""
    if keywords:
        joiner = " en " if language == "nl" else " and "
        text = joiner.join(keywords[:2])
        return text[0].upper() + text[1:]
    return shorten(central, 40) or ("Thema" if language == "nl" else "Theme")


def reason_for(keywords: Sequence[str], central: str, size: int, language: str) -> str:
    quote = shorten(central, 80)
    if language == "nl":
        if keywords:
            return (f"Deze {size} briefjes lijken in betekenis op elkaar en noemen vaak "
                    f"{_listing(keywords, 'en')}; "
                    f"het meest typerende: „{quote}”.")
        return (f"Deze {size} briefjes liggen in betekenis dicht bij elkaar, zonder een "
                f"woord dat ze delen; het meest typerende: „{quote}”.")
    if keywords:
        return (f"These {size} notes are close in meaning and often mention "
                    f"{_listing(keywords, 'and')}; "
                f"the most typical one: “{quote}”.")
    return (f"These {size} notes are close in meaning without a word they share; "
            f"the most typical one: “{quote}”.")


def topic_title(labels: Sequence[str], language: str) -> str:
    """A title from the concepts the notes name: "Hitte en verkoeling · bomen"."""
    text = " · ".join(labels[:2])
    return (text[0].upper() + text[1:]) if text else ("Thema" if language == "nl" else "Theme")


def topic_reason(topics: Sequence[tuple[str, int, Sequence[str]]], central: str, size: int,
                 language: str) -> str:
    """Why these notes go together, from what they name: each topic with how many of
    them name it and the words they use for it."""
    quote = shorten(central, 80)
    conj = "en" if language == "nl" else "and"
    parts = []
    for label, count, used in topics:
        of = f"{count} van de {size}" if language == "nl" else f"{count} of {size}"
        parts.append(f"{label} ({of}: {_listing(used, conj)})")
    if language == "nl":
        return (f"Deze {size} briefjes gaan over {' en '.join(parts)}; "
                f"het meest typerende: „{quote}”.")
    return (f"These {size} notes are about {' and '.join(parts)}; "
            f"the most typical one: “{quote}”.")


def _listing(items: Sequence[str], conjunction: str) -> str:
    quoted = [f"„{w}”" if conjunction == "en" else f"“{w}”" for w in items]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + f" {conjunction} " + quoted[-1]
