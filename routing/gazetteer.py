"""The gazetteer: carrier location text, codes and postcodes resolved to nodes of the network.

Built once from network.json's nodes and the sourced aliases in data/places.json; every answer is an
existing node id or None (a place we have no node for is never guessed). Pure: no database, no network.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from geopy.distance import geodesic

DATA_DIR = Path(__file__).parent / "data"
NETWORK_FILE = DATA_DIR / "network.json"
PLACES_FILE = DATA_DIR / "places.json"
REVERSE_FILE = DATA_DIR / "network_reverse.json"

MatchedBy = Literal["iata", "postcode", "name", "alias", "contains"]

# How sure each way of matching is; a region-wide postcode prefix is the weakest evidence that still counts.
CONFIDENCE = {
    "iata": 0.95,
    "postcode": 0.95,
    "prefix_city": 0.8,
    "prefix_region": 0.6,
    "exact": 0.9,
    "loose": 0.8,
    "contains": 0.6,
    "code_in_text": 0.5,
}
# Aliases shorter than this (СПб, Иу) are only trusted as the whole name, never inside longer text.
MIN_CONTAINED = 3
# Carrier location fields are short; anything past this is not a place name and is not read.
MAX_NAME = 300

_PUNCT = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"[0-9]+")
_CODE_TOKEN = re.compile(r"\b[A-Z]{3}\b")


@dataclass(frozen=True, slots=True)
class Place:
    """A node of the network as the gazetteer knows it."""

    id: str
    name: str
    country: str
    lat: float
    lon: float
    timezone: str
    role: str
    iata: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """A resolved place: the node, and how (and how surely) the text led to it."""

    place_id: str
    name: str
    country: str
    lat: float
    lon: float
    timezone: str
    confidence: float
    matched_by: MatchedBy


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def basic_form(text: str) -> str:
    """Text as compared: NFKC, casefolded, ё→е, punctuation to spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return " ".join(_PUNCT.sub(" ", text).split())


@dataclass(frozen=True, slots=True)
class _Noise:
    words: tuple[str, ...]
    cjk: tuple[str, ...]

    def strip(self, basic: str) -> str:
        """The looser form: digits and facility words (ММПО, ЛЦ, sorting centre…) removed."""
        text = f" {_DIGITS.sub(' ', basic)} "
        for word in self.words:
            text = text.replace(f" {word} ", " ")
        for word in self.cjk:
            text = text.replace(word, " ")
        return " ".join(text.split())


class Gazetteer:
    """Resolves carrier location text, IATA codes and Russian postcodes to network node ids."""

    def __init__(self, places: Iterable[Place], extras: Mapping[str, Any]) -> None:
        self._places = {place.id: place for place in places}
        noise = extras.get("noise_words", {})
        # Longest first, so that "sorting centre" goes before "centre"-like shorter words.
        self._noise = _Noise(
            tuple(sorted((basic_form(w) for w in noise.get("words", [])), key=len, reverse=True)),
            tuple(sorted(noise.get("cjk", []), key=len, reverse=True)),
        )
        self._iata: dict[str, str] = {}
        self._exact: dict[str, list[tuple[str, MatchedBy]]] = {}
        self._loose: dict[str, list[tuple[str, MatchedBy]]] = {}
        # Names looked for inside longer text: by word n-gram (most scripts) or by substring (Chinese).
        self._contained_words: dict[str, list[str]] = {}
        self._contained_cjk: list[tuple[str, str]] = []
        self._longest_words = 1
        self._postcodes: dict[str, str] = {}
        self._prefixes: dict[str, tuple[str, str]] = {}
        countries = extras.get("country_names", {})
        self._country_names = {basic_form(k): v for k, v in countries.get("names", {}).items()}
        self._also_match: dict[str, list[str]] = dict(countries.get("also_match", {}))
        self._no_free_text = frozenset(extras.get("iata_not_in_free_text", {}).get("codes", []))
        self._index(extras)

    # -- building -------------------------------------------------------------------------------------

    @classmethod
    def from_network(
        cls, path_to_network_json: str | Path | None = None, places_path: str | Path | None = None
    ) -> Gazetteer:
        """Build the index from network.json's nodes (default routing/data) and data/places.json."""
        network = json.loads(Path(path_to_network_json or NETWORK_FILE).read_text(encoding="utf-8"))
        if path_to_network_json is None and REVERSE_FILE.exists():  # Russia → China places (issue 17)
            reverse = json.loads(REVERSE_FILE.read_text(encoding="utf-8"))
            network = {**network, "nodes": [*network["nodes"], *reverse.get("nodes", [])]}
        extras = json.loads(Path(places_path or PLACES_FILE).read_text(encoding="utf-8"))
        places = [
            Place(
                n["id"],
                n["name"],
                n["country"],
                float(n["lat"]),
                float(n["lon"]),
                n["timezone"],
                n["role"],
                str(n["iata"]).upper() if n.get("iata") else None,
            )
            for n in network["nodes"]
        ]
        return cls(places, extras)

    def _index(self, extras: Mapping[str, Any]) -> None:
        names: list[tuple[str, str, MatchedBy]] = [(p.id, p.name, "name") for p in self._places.values()]
        for group in extras.get("aliases", []):
            for place_id, aliases in group["places"].items():
                names.extend((place_id, alias, "alias") for alias in aliases)
        for place_id, text, how in names:
            if place_id in self._places:
                self._add_name(place_id, text, how)
        self._contained_cjk = sorted(set(self._contained_cjk), key=lambda item: (-len(item[0]), item))
        self._iata.update((p.iata, p.id) for p in self._places.values() if p.iata)
        for group in extras.get("iata_codes", []):
            for code, place_id in group["codes"].items():
                if place_id in self._places:
                    self._iata.setdefault(code.upper(), place_id)
        for group in extras.get("postcodes", []):
            self._postcodes.update((k, v) for k, v in group["exact"].items() if v in self._places)
        for group in extras.get("postcode_prefixes", []):
            for key, place_id in group["prefixes"].items():
                if place_id in self._places:
                    for prefix in _expand_prefixes(key):
                        self._prefixes[prefix] = (place_id, group["scope"])

    def _add_name(self, place_id: str, text: str, how: MatchedBy) -> None:
        basic = basic_form(text)
        if not basic:
            return
        _append_unique(self._exact, basic, (place_id, how))
        loose = self._noise.strip(basic)
        # A name whose loose form differs ("Новосибирск ММПО") must not take the plain city's loose key.
        if loose and loose == basic:
            _append_unique(self._loose, loose, (place_id, how))
        if _is_cjk(basic):
            if len(basic) >= 2:
                self._contained_cjk.append((basic, place_id))
        elif len(basic) >= MIN_CONTAINED:
            places = self._contained_words.setdefault(basic, [])
            if place_id not in places:
                places.append(place_id)
            self._longest_words = max(self._longest_words, basic.count(" ") + 1)

    # -- answering ------------------------------------------------------------------------------------

    @property
    def place_ids(self) -> frozenset[str]:
        """Every node id the gazetteer can answer with."""
        return frozenset(self._places)

    def place(self, place_id: str) -> Place | None:
        """The node with this id, if the network has it."""
        return self._places.get(place_id)

    def resolve(
        self,
        name: str | None,
        country: str | None = None,
        postcode: str | None = None,
        code: str | None = None,
    ) -> PlaceMatch | None:
        """The network node a carrier's location means, or None when it names no place we know.

        Tried in order: IATA code, exact postcode, postcode prefix, exact name or alias, looser name
        (facility words and digits removed), then the longest known name inside the text. A name that
        matches exactly beats a region-wide postcode prefix (Забайкальск 674650 is Zabaikalsk, not Chita).
        Only nodes of ``country`` are considered when it is given.
        """
        countries = self._countries(country)
        by_code = self._by_code(code, countries)
        if by_code is not None:
            return by_code
        by_postcode = self._by_postcode(postcode, countries)
        if by_postcode is not None and by_postcode.confidence > CONFIDENCE["prefix_region"]:
            return by_postcode
        by_name = self._by_name(name, countries)
        if by_postcode is None:
            return by_name
        if by_name is not None and by_name.matched_by != "contains":
            return by_name
        return by_postcode

    def nearest_node(self, lat: float, lon: float, country: str | None = None) -> tuple[Place, float] | None:
        """The node closest to a point (geodesic km), optionally within one country."""
        countries = self._countries(country)
        best: tuple[Place, float] | None = None
        for place in self._places.values():
            if countries is not None and place.country not in countries:
                continue
            km = float(geodesic((lat, lon), (place.lat, place.lon)).km)
            if best is None or km < best[1]:
                best = (place, km)
        return best

    def _countries(self, country: str | None) -> frozenset[str] | None:
        if country is None or not country.strip():
            return None
        key = basic_form(country)
        code = self._country_names.get(key, key.upper())
        return frozenset([code, *self._also_match.get(code, [])])

    def _match(
        self, place_id: str, how: MatchedBy, confidence: float, countries: frozenset[str] | None
    ) -> PlaceMatch | None:
        place = self._places[place_id]
        if countries is not None and place.country not in countries:
            return None
        return PlaceMatch(
            place.id, place.name, place.country, place.lat, place.lon, place.timezone, confidence, how
        )

    def _by_code(self, code: str | None, countries: frozenset[str] | None) -> PlaceMatch | None:
        place_id = self._iata.get((code or "").strip().upper())
        return self._match(place_id, "iata", CONFIDENCE["iata"], countries) if place_id else None

    def _by_postcode(self, postcode: str | None, countries: frozenset[str] | None) -> PlaceMatch | None:
        digits = "".join((postcode or "").split())
        if len(digits) != 6 or not digits.isascii() or not digits.isdigit():
            return None
        if countries is not None and "RU" not in countries:
            return None  # the postcode tables are Russian; a Chinese 6-digit postcode must not hit them
        if digits in self._postcodes:
            return self._match(self._postcodes[digits], "postcode", CONFIDENCE["postcode"], countries)
        if digits[:3] in self._prefixes:
            place_id, scope = self._prefixes[digits[:3]]
            return self._match(place_id, "postcode", CONFIDENCE[f"prefix_{scope}"], countries)
        return None

    def _by_name(self, name: str | None, countries: frozenset[str] | None) -> PlaceMatch | None:
        if not name:
            return None
        name = name[:MAX_NAME]
        stripped = name.strip()
        if len(stripped) == 3 and stripped.isascii() and stripped.isalpha() and stripped.isupper():
            found = self._by_code(stripped, countries)
            if found is not None:
                return found
        basic = basic_form(name)
        if not basic:
            return None
        exact = self._first(self._exact.get(basic, []), CONFIDENCE["exact"], countries)
        if exact is not None:
            return exact
        loose_key = self._noise.strip(basic)
        loose = self._first(self._loose.get(loose_key, []), CONFIDENCE["loose"], countries)
        contained, alias = self._contains(basic, countries)
        # "ММПО Новосибирск цех 2": the longer known name inside the text says more than the loose form.
        if loose is not None and (contained is None or len(alias) <= len(loose_key)):
            return loose
        return contained or self._code_in_text(name, countries)

    def _first(
        self, entries: list[tuple[str, MatchedBy]], confidence: float, countries: frozenset[str] | None
    ) -> PlaceMatch | None:
        for place_id, how in entries:
            found = self._match(place_id, how, confidence, countries)
            if found is not None:
                return found
        return None

    def _contains(self, basic: str, countries: frozenset[str] | None) -> tuple[PlaceMatch | None, str]:
        """The longest known name inside the text (whole words; any substring for Chinese names)."""
        hits = [(alias, place_id) for alias, place_id in self._contained_cjk if alias in basic]
        words = basic.split()
        for size in range(1, min(self._longest_words, len(words)) + 1):
            for start in range(len(words) - size + 1):
                gram = " ".join(words[start : start + size])
                hits.extend((gram, place_id) for place_id in self._contained_words.get(gram, []))
        for alias, place_id in sorted(hits, key=lambda hit: (-len(hit[0]), hit)):
            found = self._match(place_id, "contains", CONFIDENCE["contains"], countries)
            if found is not None:
                return found, alias
        return None, ""

    def _code_in_text(self, name: str, countries: frozenset[str] | None) -> PlaceMatch | None:
        for token in _CODE_TOKEN.findall(name):
            if token in self._iata and token not in self._no_free_text:
                found = self._match(self._iata[token], "contains", CONFIDENCE["code_in_text"], countries)
                if found is not None:
                    return found
        return None


def _append_unique(
    index: dict[str, list[tuple[str, MatchedBy]]], key: str, item: tuple[str, MatchedBy]
) -> None:
    entries = index.setdefault(key, [])
    if all(existing[0] != item[0] for existing in entries):
        entries.append(item)


def _expand_prefixes(key: str) -> list[str]:
    """'101-129' → ['101', …, '129']; '630' → ['630']."""
    first, _, last = key.partition("-")
    return [f"{n:03d}" for n in range(int(first), int(last or first) + 1)]


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The gazetteer over the packaged network and aliases, built once per process."""
    return Gazetteer.from_network()
