"""Normalisation of Dutch personal names, so that spelling variants give one matching key.

Family names keep only their core words: surname prefixes (tussenvoegsels) are dropped,
because registrations write them inconsistently ("Berg, van der", "v.d. Berg", "vanderBerg")
and the usual abbreviation "v.d." cannot tell "van der" from "van den". This mirrors the BRP,
which keeps the prefix apart from the geslachtsnaam. See docs/adr/0002-pseudonym-scheme.md.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into a base letter plus combining marks.
_LETTER_MAP = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "TH",
        "\u0131": "i",  # Turkish dotless i
    }
)

# Runs of letters; apostrophes, hyphens, dots, slashes, digits and spaces all separate words.
_WORD = re.compile(r"[^\W\d_]+")

# Single-word surname prefixes, from the BRP voorvoegsel table (Tabel 36) after apostrophes
# become separators ("d'" -> "d", "'t" -> "t"), plus the abbreviations "v", "vd" ("v.d.", "v/d").
# fmt: off
_PREFIXES = frozenset({
    "a", "aan", "af", "al", "am", "auf", "aus", "ben", "bij", "bin", "boven", "d", "da", "dal",
    "dalla", "das", "de", "degli", "dei", "del", "della", "den", "der", "des", "di", "die", "do",
    "don", "dos", "du", "el", "gen", "het", "i", "im", "in", "l", "la", "las", "le", "les", "lo",
    "los", "m", "op", "over", "s", "t", "te", "ten", "ter", "tho", "thoe", "thor", "to", "toe",
    "tot", "uijt", "uit", "unter", "v", "van", "vd", "ver", "vom", "von", "voor", "vor", "zu",
    "zum", "zur",
})

# Prefixes that people glue together ("vanderBerg", "Vanden Bossche"); single letters are
# left out so that short core words are not mistaken for glued prefixes.
_GLUEABLE = frozenset({
    "aan", "bij", "de", "del", "della", "den", "der", "des", "het", "in", "la", "le", "op", "te",
    "ten", "ter", "uit", "van", "vom", "von", "zu", "zum", "zur",
})
# fmt: on


def normalise_family_name(value: str) -> str:
    """Return the matching form of a family name: folded core words, prefixes dropped."""
    text = _split_camel_case(_reorder_comma(_fold(value)))
    words: list[str] = []
    for word in _WORD.findall(text.casefold()):
        words.extend(_segment_glued(word) or (word,))
    core = [word for word in words if word not in _PREFIXES]
    # A name made only of prefix-like words ("Le", "De La") is itself the core.
    return "".join(core or words)


def normalise_given_names(value: str) -> str:
    """Return the matching form of given names: folded words, in order, one space apart."""
    return " ".join(_WORD.findall(_fold(value).casefold()))


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)  # also splits the ĳ ligature into "ij"
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.translate(_LETTER_MAP)


def _reorder_comma(text: str) -> str:
    # "Berg, van der" is the index form of "van der Berg".
    head, comma, tail = text.partition(",")
    return f"{tail} {head}" if comma else text


def _split_camel_case(text: str) -> str:
    # Only lower-to-upper counts as a word boundary, so "IJsselstein" stays whole.
    out: list[str] = []
    previous = " "
    for char in text:
        if previous.islower() and char.isupper():
            out.append(" ")
        out.append(char)
        previous = char
    return "".join(out)


def _segment_glued(word: str) -> tuple[str, ...] | None:
    """Split a word made only of glueable prefixes ("vander" -> van, der), else None."""
    if len(word) > 12:
        return None
    for end in range(len(word) - 1, 0, -1):
        head, rest = word[:end], word[end:]
        if head in _GLUEABLE:
            if rest in _GLUEABLE:
                return (head, rest)
            tail = _segment_glued(rest)
            if tail is not None:
                return (head, *tail)
    return None
