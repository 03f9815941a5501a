"""Word lists and vectorised builders for demo company and person names."""

from __future__ import annotations

import numpy as np


def _words(text: str) -> tuple[str, ...]:
    """Words separated by |."""
    return tuple(text.split("|"))


COMPANY_PREFIX = _words(
    "Acme|Apex|Atlas|Aurora|Beacon|Birch|Blue Ridge|Bright|Cascade|Cedar|Centric|Clear|"
    "Cobalt|Crest|Crown|Delta|Eagle|Echo|Ember|Evergreen|Falcon|First|Fox|Frontier|Galaxy|"
    "Global|Golden|Granite|Harbor|Highland|Horizon|Iron|Jade|Juniper|Keystone|Lakeside|"
    "Liberty|Lighthouse|Lion|Maple|Meridian|Metro|Midland|Monarch|Nexus|North Star|Nova|Oak|"
    "Omega|Orbit|Pacific|Palmetto|Peak|Pine|Pinnacle|Pioneer|Prairie|Prime|Quantum|Radiant|"
    "Redwood|River|Riverside|Rock|Sapphire|Sierra|Silver|Skyline|Sterling|Stone|Summit|Sun|"
    "Sunrise|Titan|Tri-County|True North|Union|United|Valley|Vanguard|Vertex|Vista|Westbrook|"
    "Willow|Zenith|Alpine|Bay|Canyon|Coastal|Compass|Copper|Diamond|Emerald|Fairview|Harvest|"
    "Heritage|Landmark|Magnolia|Oakridge|Polar"
)
COMPANY_CORE = _words(
    "Analytics|Apparel|Auto Parts|Bakery|Builders|Chemicals|Cleaning|Clinics|Construction|"
    "Consulting|Dairy|Dental|Design|Distribution|Electric|Electronics|Energy|Engineering|"
    "Farms|Fitness|Foods|Freight|Furniture|Hardware|Health|Hospitality|Industries|Insurance|"
    "Interiors|Labs|Landscaping|Logistics|Machining|Marine|Media|Medical|Metals|Mining|"
    "Motors|Networks|Optics|Packaging|Pharma|Plastics|Plumbing|Printing|Robotics|Software|"
    "Supply|Textiles"
)
COMPANY_SUFFIX = _words("Inc|LLC|Ltd|Corp|Co|Group|Partners|Holdings|GmbH|& Sons")
PUBLIC_PREFIX = _words("City of|County of|State of|District of|Port of|University of")

FIRST_NAMES = _words(
    "Aaliyah|Adam|Aisha|Alex|Amara|Ana|Andre|Anna|Ben|Carla|Carlos|Chen|Chloe|Daniel|David|"
    "Diego|Elena|Emma|Eric|Fatima|Felix|Grace|Hana|Hugo|Ines|Isaac|James|Jana|Javier|Julia|"
    "Kai|Karen|Kenji|Laura|Leo|Lina|Lucas|Maria|Mark|Maya|Mia|Nadia|Noah|Olivia|Omar|Pablo|"
    "Priya|Rachel|Ravi|Rosa|Sam|Sara|Sofia|Tom|Uma|Victor|Wei|Yara|Yusuf|Zoe"
)
LAST_NAMES = _words(
    "Adams|Ali|Anderson|Bauer|Becker|Brown|Campbell|Chen|Clark|Costa|Davis|Diaz|Evans|"
    "Fischer|Garcia|Gonzalez|Green|Hall|Harris|Hughes|Ito|Jackson|Jensen|Johnson|Kim|Klein|"
    "Kowalski|Lee|Lewis|Lopez|Martin|Meyer|Miller|Moore|Nakamura|Nguyen|Novak|Okafor|Olsen|"
    "Park|Patel|Perez|Rossi|Santos|Schmidt|Scott|Silva|Singh|Smith|Suzuki|Taylor|Thomas|"
    "Walker|Wang|White|Williams|Wilson|Wong|Young|Zhang"
)


def _pick_combos(
    rng: np.random.Generator, n: int, sizes: tuple[int, ...]
) -> tuple[np.ndarray, bool]:
    """n distinct index combinations when possible (mixed radix), and whether they are distinct."""
    space = int(np.prod(sizes))
    distinct = n <= space
    flat = rng.choice(space, size=n, replace=not distinct)
    parts = []
    for size in reversed(sizes):
        parts.append(flat % size)
        flat = flat // size
    return np.stack(parts[::-1]), distinct


def _numbered(names: np.ndarray, distinct: bool) -> np.ndarray:
    """Append ' 2', ' 3', ... to repeated names so every name is unique."""
    if distinct:
        return names
    series = np.asarray(names, dtype=object)
    _, inverse, counts = np.unique(series, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(len(series), dtype=np.int64)
    rank[order] = np.arange(len(series)) - np.repeat(starts, counts)
    suffix = np.where(rank > 0, np.char.add(" ", (rank + 1).astype(str)), "")
    return np.char.add(series.astype(str), suffix)


def company_names(rng: np.random.Generator, n: int, public: np.ndarray) -> np.ndarray:
    """Unique company names; public-sector customers get 'City of X'-style names."""
    sizes = (len(COMPANY_PREFIX), len(COMPANY_CORE), len(COMPANY_SUFFIX))
    (pre, core, suf), distinct = _pick_combos(rng, n, sizes)
    prefix = np.asarray(COMPANY_PREFIX)[pre]
    private = np.char.add(
        np.char.add(np.char.add(prefix, " "), np.asarray(COMPANY_CORE)[core]), " "
    )
    private = np.char.add(private, np.asarray(COMPANY_SUFFIX)[suf])
    gov = np.char.add(np.char.add(np.asarray(PUBLIC_PREFIX)[suf % len(PUBLIC_PREFIX)], " "), prefix)
    gov = np.char.add(np.char.add(gov, " "), np.asarray(COMPANY_CORE)[core])
    names = np.where(public, gov, private)
    return _numbered(names, distinct and not public.any())


def person_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique person names and matching e-mail addresses."""
    (first, last), distinct = _pick_combos(rng, n, (len(FIRST_NAMES), len(LAST_NAMES)))
    f, la = np.asarray(FIRST_NAMES)[first], np.asarray(LAST_NAMES)[last]
    names = _numbered(np.char.add(np.char.add(f, " "), la), distinct)
    local = np.char.lower(np.char.replace(names, " ", "."))
    return names, np.char.add(local, "@example.com")
