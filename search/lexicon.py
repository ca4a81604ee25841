"""Vietnamese word knowledge for relevance: stop words, syllable shape, typing schemes, typos.

Everything here works on *folded* tokens (``search.vietnamese``: lower case, no diacritics, ``đ`` ->
``d``, ``y`` after a consonant -> ``i``) and is used by the query planner identically for every adapter:

* **stop words** of administrative language (``của``, ``về việc``, ``V/v``...): they never make a
  document match, they only add score;
* **syllable shape**: whether a folded token is one Vietnamese syllable, and how to split a token
  typed without spaces (``chuyểnđổisố`` -> ``chuyen doi so``);
* **Telex / VNI** typing left unconverted (``ddat`` -> ``dat``, ``d9at`` -> ``dat``, ``kys`` -> ``ki``);
* **one-letter typos**: the folded tokens one edit away (``doan`` -> ``doanh``, ``tia`` -> ``tai``).
"""

from __future__ import annotations

import re
from functools import lru_cache

#: stop words as typed with diacritics (exact tokens)
STOP_EXACT = frozenset({
    "của", "về", "việc", "và", "các", "những", "cho", "tại", "trong", "với", "theo", "là", "được", "có",
    "để", "đã", "này", "đến", "từ", "một", "trên", "khi", "thì", "bị", "do", "nhằm", "đối", "vv", "v",
    "năm", "số", "ngày", "tháng",
})
#: stop words typed without diacritics: only those whose folded form is not also a content word
#: (``tai`` may be tài, ``so`` may be sở: those stay content words)
STOP_FOLDED = frozenset({
    "cua", "ve", "viec", "va", "cac", "nhung", "cho", "trong", "voi", "theo", "duoc", "nay", "den",
    "mot", "tren", "khi", "thi", "nham", "doi", "vv", "v", "nam", "ngay", "thang",
})

_ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
#: vowel groups that take a final consonant, and those that end the syllable themselves
_NUCLEUS_CLOSED = "a e i o u y oa oe uy uye uie ie ye uo ua oo uo"
_NUCLEUS_OPEN = "ai ao au ay eo eu ia iu oi ui uu ieu yeu uoi uou oai oay uay uya uyu oeo ua ue uo ay"
_CODA = r"(?:ng|nh|ch|[cmnpt])"
_SYLLABLE_RE = re.compile(
    rf"{_ONSET}(?:(?:{'|'.join(sorted(set(_NUCLEUS_CLOSED.split()), key=len, reverse=True))}){_CODA}?"
    rf"|(?:{'|'.join(sorted(set(_NUCLEUS_OPEN.split()), key=len, reverse=True))}))")
MAX_SPLIT_CHARS = 40

_TELEX_VOWELS = (("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u"), ("dd", "d"))
_TELEX_TONES = "sfrxjz"
_VNI_RE = re.compile(r"[a-z]+[0-9][a-z0-9]*")
_FUZZY_ALPHABET = "abcdeghiklmnopqrstuvx"  # folded Vietnamese letters (y folds to i after a consonant)
_UNIFY_IY_RE = re.compile(r"^(ngh|ng|nh|ch|gh|kh|ph|th|tr|[bcdghklmnprstvx])y$")


def unify_iy(token: str) -> str:
    """``ky`` -> ``ki``, ``ly`` -> ``li``: the two spellings of a final i after a consonant (kĩ/kỹ, lí/lý)."""
    return _UNIFY_IY_RE.sub(r"\1i", token)


def is_stop_word(exact: str, folded: str) -> bool:
    """A token that should not make a document match (typed with or without diacritics)."""
    if exact != folded:
        return exact in STOP_EXACT
    return folded in STOP_FOLDED


def is_syllable(folded: str) -> bool:
    """True when the folded token has the shape of one Vietnamese syllable."""
    return _SYLLABLE_RE.fullmatch(folded) is not None


@lru_cache(maxsize=4096)
def split_syllables(folded: str) -> tuple[str, ...] | None:
    """The fewest syllables a token typed without spaces is made of (``canbo`` -> ``can bo``), or
    None when it is a syllable already, is too short or too long, or is no run of syllables."""
    n = len(folded)
    if n < 4 or n > MAX_SPLIT_CHARS or not folded.isalpha() or not folded.isascii() or is_syllable(folded):
        return None
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for end in range(1, n + 1):
        for start in range(max(0, end - 7), end):
            head = best[start]
            if head is None or not is_syllable(folded[start:end]):
                continue
            candidate = (*head, folded[start:end])
            current = best[end]
            if current is None or len(candidate) < len(current):
                best[end] = candidate
    result = best[n]
    return tuple(unify_iy(s) for s in result) if result is not None and len(result) > 1 else None


def untype(folded: str) -> str | None:
    """The syllable meant by a word typed in Telex or VNI without conversion (``ddat`` -> ``dat``,
    ``vieetj`` -> ``viet``, ``d9a6t`` -> ``dat``), or None when it does not look like one."""
    if not folded.isascii() or is_syllable(folded):
        return None
    word = folded
    if _VNI_RE.fullmatch(word) and not word[0].isdigit():
        word = "".join(c for c in word if not c.isdigit())
    else:
        for typed, letter in _TELEX_VOWELS:
            word = word.replace(typed, letter)
        word = re.sub(r"(?<=[^aeiou])w", "u", word)
        if not is_syllable(word):
            word = _drop_tone_letter(word)
    word = unify_iy(word)
    return word if word != folded and is_syllable(word) else None


def _drop_tone_letter(word: str) -> str:
    """Telex puts the tone letter at the end (``quanr``) or after the vowel (``quarn``): drop the
    one whose removal leaves a syllable (never a letter before the first vowel)."""
    first_vowel = next((i for i, c in enumerate(word) if c in "aeiouy"), len(word))
    for i in range(len(word) - 1, first_vowel, -1):
        if word[i] in _TELEX_TONES and is_syllable(word[:i] + word[i + 1:]):
            return word[:i] + word[i + 1:]
    return word


@lru_cache(maxsize=4096)
def one_edit_variants(folded: str) -> tuple[str, ...]:
    """Folded tokens one typing slip away from ``folded``: for 5 letters and more, one letter
    deleted, inserted, replaced or two neighbours swapped; for 3-4 letters, only a missing letter
    or a swap (short syllables are too close to each other for more). Digits and codes: none."""
    if not folded.isalpha() or not folded.isascii() or len(folded) < 3:
        return ()
    n = len(folded)
    out: set[str] = set()
    for i in range(n - 1):
        out.add(folded[:i] + folded[i + 1] + folded[i] + folded[i + 2:])
    for i in range(n + 1):
        for c in _FUZZY_ALPHABET:
            out.add(folded[:i] + c + folded[i:])
    if n >= 5:
        for i in range(n):
            out.add(folded[:i] + folded[i + 1:])
            for c in _FUZZY_ALPHABET:
                out.add(folded[:i] + c + folded[i + 1:])
    out = {unify_iy(v) if v.endswith("y") else v for v in out}
    out.discard(folded)
    out.discard(unify_iy(folded))
    return tuple(sorted(out))
