"""Match free-text place names from source files to gazetteer P-codes, refusing to guess.

Field files spell the same place many ways ("Kismayo"/"Kismaayo", "Ceel Barde"/"El Barde",
"Xudur"/"Hudur"). A wrong P-code silently moves people to the wrong district, which is worse
than leaving a row unmatched for a person to fix; so every stage either finds one place or
reports why not (``unmatched``/``ambiguous``) together with the closest candidates.

Stages, cheapest and most certain first: known P-code, exact name, alias, normalised key,
fuzzy score with both a threshold and a margin over the runner-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from unidecode import unidecode


@dataclass(frozen=True)
class Place:
    """One gazetteer entry."""

    pcode: str
    name: str
    admin_level: int
    parent_pcode: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    pcode: str
    name: str
    score: float  # 0..100


@dataclass(frozen=True)
class Match:
    query: str
    pcode: str | None  # None when not confidently matched
    method: str  # pcode, exact, alias, normalised, fuzzy, unmatched, ambiguous
    score: float
    # Best few (up to 3), best first; filled when unmatched/ambiguous unless the query has no
    # letters or digits or nothing is in scope (wrong level/country).
    candidates: tuple[Candidate, ...]


# Words that qualify a name rather than identify it ("Borama District", "Gobolka Bay").
_GENERIC = frozenset({"district", "region", "town", "city", "province", "degmada", "gobolka"})
_APOSTROPHES = re.compile(r"['`\u2018\u2019\u02bc\u02bf\u02be]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PAREN = re.compile(r"\(([^)]*)\)")
_VOWEL = "aeiou"


def _tokens(name: str) -> list[str]:
    """Lowercase ASCII word tokens, generic words dropped (unless nothing else is left)."""
    text = _APOSTROPHES.sub("", unidecode(name).lower())
    tokens = [t for t in _NON_ALNUM.split(text) if t]
    kept = [t for t in tokens if t not in _GENERIC]
    return kept or tokens


def _translit(token: str) -> str:
    """Merge spelling variants that are the same sound in Somali/Arabic romanisation.

    dh/d and kh/k are the retroflex/velar letters written with or without the h; Somali 'x'
    (pharyngeal h) is written 'h' in older and English spellings (Xudur/Hudur); 'c' is the
    ayn, dropped at a word edge in English spellings (Ceel/El, Caynabo/Ainabo); ey/ay/ei/ai
    are one diphthong (Baidoa/Baydhabo, Weyne/Wayne); doubled letters mark length or
    gemination, which English spellings omit (Kismaayo/Kismayo, Bossaso/Bosaaso).
    Nothing else is merged: q/g/k or o/w would join names that really differ.
    """
    token = token.replace("dh", "d").replace("kh", "k").replace("x", "h")
    token = re.sub(r"^c(?=[aeiou])", "", token)
    token = re.sub(r"(?<=[aeiou])c$", "", token)
    token = re.sub(r"[ae][iy]", "ay", token)
    return re.sub(r"(.)\1+", r"\1", token)


def _once(name: str) -> str:
    return "".join(_translit(t) for t in _tokens(name))


def normalise(name: str) -> str:
    """The key for "normalised" matches: spelling-insensitive, spaces and punctuation removed.

    Rules are applied until nothing changes, so the key is stable (normalise(normalise(x)) ==
    normalise(x)) even when one rule exposes another (e.g. "ddhh").
    """
    key = _once(name)
    while (nxt := _once(key)) != key:
        key = nxt
    return key


def _spaced(name: str) -> str:
    """Normalised tokens kept apart, for word-order-insensitive fuzzy scoring."""
    return " ".join(k for k in (normalise(t) for t in _tokens(name)) if k)


def _clean(text: str) -> str:
    return " ".join(text.split()).casefold()


def _variants(place: Place) -> list[str]:
    """Name, aliases, and the parts of "Wadajir (Medina)" style names (OCHA's way of giving two)."""
    out = [place.name, *place.aliases]
    if _PAREN.search(place.name):
        out += [_PAREN.sub(" ", place.name), *_PAREN.findall(place.name)]
    return [v for v in out if v.strip()]


class PlaceMatcher:
    """Gazetteer index answering ``match`` queries; results are cached per distinct query."""

    def __init__(self, places: Iterable[Place], threshold: float = 85.0, margin: float = 5.0) -> None:
        self.threshold = threshold
        self.margin = margin
        self.places: dict[str, Place] = {}
        for p in places:
            self.places.setdefault(p.pcode, p)
        self._upper = {pc.strip().upper(): pc for pc in self.places}
        self._exact: dict[str, set[str]] = {}
        self._alias: dict[str, set[str]] = {}
        self._norm: dict[str, set[str]] = {}
        self._keys: dict[str, list[tuple[str, str]]] = {}
        for pc, p in self.places.items():
            self._exact.setdefault(_clean(p.name), set()).add(pc)
            for a in p.aliases:
                self._alias.setdefault(_clean(a), set()).add(pc)
            keys = [(normalise(v), _spaced(v)) for v in _variants(p)]
            self._keys[pc] = [k for k in keys if k[0]]
            for key, _ in self._keys[pc]:
                self._norm.setdefault(key, set()).add(pc)
        self._ancestors = {pc: self._chain(pc) for pc in self.places}
        self._cache: dict[tuple[str, int | None, str | None, str | None], Match] = {}
        self._countries: dict[str, set[str]] = {}

    def _chain(self, pcode: str) -> tuple[str, ...]:
        """Ancestors from parent to root; the root may be a code that is not a place (e.g. ISO3)."""
        out: list[str] = []
        cur = self.places[pcode].parent_pcode
        while cur and cur not in out and cur != pcode:
            out.append(cur)
            cur = self.places[cur].parent_pcode if cur in self.places else None
        return tuple(out)

    def _country(self, country: str) -> set[str]:
        """Places of a country given as adm0 P-code or ISO3 (the root of their parent chain).

        When no chain ends in that code, fall back to the P-code prefix (SOM -> SO), which holds
        for most OCHA P-codes; pass the adm0 P-code where it does not.
        """
        c = country.strip().upper()
        if c in self._countries:
            return self._countries[c]
        by_root = {pc for pc, anc in self._ancestors.items() if c == pc.upper() or c in {a.upper() for a in anc}}
        prefix = c[:2] if len(c) == 3 else c
        found = by_root or {pc for pc in self.places if pc.upper().startswith(prefix)}
        self._countries[c] = found
        return found

    def match(
        self, name: str, level: int | None = None, parent: str | None = None, country: str | None = None
    ) -> Match:
        """Best confident P-code for ``name``; see the module docstring for the stages."""
        ck = (name, level, parent, country)
        if ck not in self._cache:
            self._cache[ck] = self._match(name, level, parent, country)
        return self._cache[ck]

    def match_many(
        self, queries: Iterable[tuple[str, int | None, str | None]]
    ) -> dict[tuple[str, int | None, str | None], Match]:
        """Match each distinct (name, level, parent) once; files repeat the same few names a lot."""
        return {q: self.match(*q) for q in dict.fromkeys(queries)}

    def _match(self, name: str, level: int | None, parent: str | None, country: str | None) -> Match:
        q = name if isinstance(name, str) else str(name)
        scope = {pc for pc, p in self.places.items() if level is None or p.admin_level == level}
        if country:
            scope &= self._country(country)
        code = self._upper.get(q.strip().upper())
        if code is not None and code in scope:
            return Match(q, code, "pcode", 100.0, (self._cand(code, 100.0),))
        if not _clean(q):
            return Match(q, None, "unmatched", 0.0, ())
        parent_pc = self._resolve_parent(parent, level, country)
        inner = scope
        if parent_pc is not None:
            inner = {pc for pc in scope if parent_pc in self._ancestors[pc]}
        hit = self._exactish(q, inner)
        if hit is not None:
            return hit
        best, second, cands = self._fuzzy(q, inner)
        if best >= self.threshold:
            if best - second >= self.margin:
                return Match(q, cands[0].pcode, "fuzzy", best, cands)
            return Match(q, None, "ambiguous", best, cands)
        if parent_pc is not None:
            # The parent given in source files is sometimes wrong (a district listed under the
            # neighbouring region); accept an unmistakable name elsewhere, never a fuzzy one.
            hit = self._exactish(q, scope)
            if hit is not None:
                return hit
        return Match(q, None, "unmatched", best, cands)

    def _resolve_parent(self, parent: str | None, level: int | None, country: str | None) -> str | None:
        if parent is None or not _clean(str(parent)):
            return None
        code = self._upper.get(str(parent).strip().upper())
        if code is not None:
            return code
        m = self.match(str(parent), None if level is None else level - 1, None, country)
        return m.pcode

    def _exactish(self, q: str, scope: set[str]) -> Match | None:
        """Exact name, then alias, then normalised key; several places on one stage = ambiguous."""
        key = normalise(q)
        for method, found in (
            ("exact", self._exact.get(_clean(q), set())),
            ("alias", self._alias.get(_clean(q), set())),
            ("normalised", self._norm.get(key, set()) if key else set()),
        ):
            hits = sorted(found & scope)
            if len(hits) == 1:
                return Match(q, hits[0], method, 100.0, (self._cand(hits[0], 100.0),))
            if hits:
                return Match(q, None, "ambiguous", 100.0, tuple(self._cand(h, 100.0) for h in hits[:3]))
        return None

    def _fuzzy(self, q: str, scope: set[str]) -> tuple[float, float, tuple[Candidate, ...]]:
        """Best score per place over its name variants, as (best, runner-up, top 3).

        Scores are max(ratio on the joined keys, token_sort_ratio on the spaced keys). WRatio
        is deliberately not used: its partial matching gives a short query like "Bay" 90
        against any longer name that contains it ("Baydhaba").
        """
        qk, qs = normalise(q), _spaced(q)
        pairs = [(pc, k) for pc in sorted(scope) for k in self._keys[pc]]
        if not qk or not pairs:
            return 0.0, 0.0, ()
        owners = [pc for pc, _ in pairs]
        keys = [k for _, k in pairs]
        joined = process.cdist([qk], [k for k, _ in keys], scorer=fuzz.ratio)[0]
        spaced = process.cdist([qs], [s for _, s in keys], scorer=fuzz.token_sort_ratio)[0]
        best: dict[str, float] = {}
        for pc, score in zip(owners, np.maximum(joined, spaced), strict=True):
            best[pc] = max(best.get(pc, 0.0), round(float(score), 2))
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        cands = tuple(self._cand(pc, s) for pc, s in ranked[:3])
        return ranked[0][1], ranked[1][1] if len(ranked) > 1 else 0.0, cands

    def _cand(self, pcode: str, score: float) -> Candidate:
        return Candidate(pcode, self.places[pcode].name, score)
