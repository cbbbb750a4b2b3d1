"""The scene planner: prompt -> objects laid out on a walled floor, and edits of such a layout.

A deterministic stand-in for Gizmo's scene director, NOT an AI. It recognises the parametric
generator's kinds by noun ("workbench", "crates", "mobile manipulator"), reads counts from the
number word before the noun ("two", "3", "a"; a bare plural means two), and packs the objects in
rows with clearances, then puts walls around them. Frame: Z up, metres, +Y is north, +X is east.
Every object stands at z = 0 with identity rotation (its footprint axis-aligned), so overlap checks
are rectangle checks. A prompt with no recognisable object, or an edit that cannot be carried out,
raises `PlanError` with the reason shown to the caller.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from gizmo_server.description import AssetDescription, Box, Capsule, Cylinder, Kind, Sphere
from gizmo_server.generator import generate

__all__ = [
    "Item",
    "Layout",
    "PlanError",
    "Wall",
    "apply_edit",
    "footprint",
    "place_asset",
    "plan_scene",
    "understood_kinds",
]

GAP = 0.8  # metres kept free between objects
MARGIN = 1.5  # metres between the outermost objects and the walls (room for edits)
WALL_THICKNESS = 0.1
WALL_HEIGHT = 2.5
MAX_PER_LABEL = 12
MAX_OBJECTS = 40


class PlanError(ValueError):
    """The prompt or edit cannot be carried out; the message says why and what would work."""


@dataclass(frozen=True)
class _Noun:
    label: str  # what the objects are called ("Workbench" -> Workbench_1, Workbench_2)
    kind: Kind
    pattern: str  # singular|plural forms
    prompt: str  # what the parametric generator builds for it


# Longest phrases first: a matched span is consumed, so "mobile manipulator" is not also an arm.
_NOUNS: tuple[_Noun, ...] = (
    _Noun("Mobile_Manipulator", Kind.MOBILE_BASE, r"mobile manipulators?", "wheeled mobile base"),
    _Noun(
        "Mobile_Base",
        Kind.MOBILE_BASE,
        r"mobile (?:bases?|robots?)|agvs?|amrs?",
        "wheeled mobile base for warehouse transport",
    ),
    _Noun(
        "Conveyor",
        Kind.CONVEYOR,
        r"conveyor belts?|belt conveyors?|conveyors?",
        "2 m belt conveyor with powered rollers",
    ),
    _Noun(
        "Robot_Arm",
        Kind.ARM,
        r"(?:robot(?:ic)? )?arms?|manipulators?",
        "6-DOF industrial robot arm with a 0.9 m reach",
    ),
    _Noun("Gripper", Kind.GRIPPER, r"grippers?", "parallel-jaw gripper with two fingers"),
    _Noun("Workbench", Kind.TABLE, r"workbench(?:es)?", "steel workbench, 1.2 m by 0.8 m"),
    _Noun("Table", Kind.TABLE, r"tables?|desks?", "work table, 1.0 m by 0.7 m"),
    _Noun("Shelf", Kind.SHELF, r"shel(?:f|ves)|racks?", "four-level steel storage shelf"),
    _Noun("Bin", Kind.BIN, r"bins?|totes?", "blue plastic parts bin"),
    _Noun("Crate", Kind.CRATE, r"crates?|boxe?s?|cartons?", "wooden shipping crate, 0.5 m cube"),
)
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "pair": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "several": 3,
    "few": 3,
}
_CLAUSE_BREAKS = frozenset({"and", "with", "along", "near", "by", "on", "in", "at", "next", "to"})
_WORD = re.compile(r"[a-z0-9]+|,")
_DIRECTIONS = {"north": (0.0, 1.0), "south": (0.0, -1.0), "east": (1.0, 0.0), "west": (-1.0, 0.0)}
_DISTANCE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(m|metres?|meters?|cm|centimet(?:re|er)s?)\s+(north|south|east|west)\b"
)
_WALL = re.compile(r"\b(north|south|east|west)(?:ern)?\s+(?:wall|side)\b")


@dataclass(frozen=True)
class Item:
    """One placed object: `position` is its root frame's (z = 0), `size` its footprint box."""

    name: str
    label: str
    kind: Kind
    prompt: str
    position: tuple[float, float, float]
    size: tuple[float, float, float]
    centre: tuple[float, float]  # footprint centre relative to the root frame
    fixed: bool

    def rect(self, pad: float = 0.0) -> tuple[float, float, float, float]:
        """The footprint on the floor as (x0, y0, x1, y1), grown by `pad` on every side."""
        cx, cy = self.position[0] + self.centre[0], self.position[1] + self.centre[1]
        hx, hy = self.size[0] / 2 + pad, self.size[1] / 2 + pad
        return (cx - hx, cy - hy, cx + hx, cy + hy)


@dataclass(frozen=True)
class Wall:
    name: str
    centre: tuple[float, float, float]
    size: tuple[float, float, float]


@dataclass(frozen=True)
class Layout:
    """The floor (`width` along X, `depth` along Y, centred on the origin) and its objects."""

    width: float
    depth: float
    items: tuple[Item, ...]

    @property
    def walls(self) -> tuple[Wall, ...]:
        w, d, t, h = self.width, self.depth, WALL_THICKNESS, WALL_HEIGHT
        return (
            Wall("wall_north", (0.0, d / 2 + t / 2, h / 2), (w + 2 * t, t, h)),
            Wall("wall_south", (0.0, -d / 2 - t / 2, h / 2), (w + 2 * t, t, h)),
            Wall("wall_east", (w / 2 + t / 2, 0.0, h / 2), (t, d, h)),
            Wall("wall_west", (-w / 2 - t / 2, 0.0, h / 2), (t, d, h)),
        )

    def fits(self, item: Item, others: Sequence[Item], gap: float = 0.2) -> bool:
        """Inside the walls and clear of every other object by `gap`."""
        x0, y0, x1, y1 = item.rect()
        if x0 < -self.width / 2 or x1 > self.width / 2 or y0 < -self.depth / 2:
            return False
        if y1 > self.depth / 2:
            return False
        return not any(_overlap(item.rect(gap / 2), o.rect(gap / 2)) for o in others)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def footprint(asset: AssetDescription) -> tuple[tuple[float, float, float], tuple[float, float]]:
    """The asset's axis-aligned bounding box at rest: full size and footprint centre (x, y)."""
    lo, hi = [math.inf] * 3, [-math.inf] * 3
    for body in asset.bodies:
        for geom in body.geoms:
            half = _half_extents(geom.shape)
            for i in range(3):
                centre = body.origin[i] + geom.pos[i]
                lo[i], hi[i] = min(lo[i], centre - half[i]), max(hi[i], centre + half[i])
    size = (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
    return size, ((hi[0] + lo[0]) / 2, (hi[1] + lo[1]) / 2)


def _half_extents(shape: object) -> tuple[float, float, float]:
    match shape:
        case Box(size=(a, b, c)):
            return (a / 2, b / 2, c / 2)
        case Sphere(radius=r):
            return (r, r, r)
        case Cylinder(radius=r, length=h, axis=axis) | Capsule(radius=r, length=h, axis=axis):
            along = h / 2 + (r if isinstance(shape, Capsule) else 0.0)
            extents = [r, r, r]
            extents["XYZ".index(axis)] = along
            return (extents[0], extents[1], extents[2])
    raise TypeError(f"unknown shape {shape!r}")


# -- reading prompts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mention:
    noun: _Noun
    count: int | None  # None: no number word given
    plural: bool
    start: int


def _mentions(text: str) -> list[_Mention]:
    """Every object noun in `text` with the count words in front of it, in prompt order."""
    lowered = text.lower()
    found: list[_Mention] = []
    for noun in _NOUNS:
        for match in re.finditer(rf"\b(?:{noun.pattern})\b", lowered):
            start = match.start()
            count = None
            for word in reversed(_WORD.findall(lowered[:start])[-4:]):
                if word in _NUMBERS or word.isdigit():
                    count = int(word) if word.isdigit() else _NUMBERS[word]
                    break
                if word in ("the", "all", "every", ",") or word in _CLAUSE_BREAKS:
                    break
            word = match.group(0)
            plural = word.endswith("s") and not word.endswith("ss")
            found.append(_Mention(noun, count, plural, start))
        lowered = re.sub(rf"\b(?:{noun.pattern})\b", lambda m: " " * len(m.group(0)), lowered)
    return sorted(found, key=lambda m: m.start)


def understood_kinds() -> list[str]:
    """The object nouns the planner knows, for error messages."""
    return [noun.label.replace("_", " ").lower() for noun in _NOUNS]


def _not_understood(text: str) -> PlanError:
    return PlanError(
        f"No object the local planner knows is named in {text[:120]!r}; name some of: "
        f"{', '.join(understood_kinds())} (with counts such as 'two' or '3')."
    )


def _make(noun: _Noun, name: str, position: tuple[float, float]) -> Item:
    """`noun` as an item whose footprint centre is at `position`."""
    asset = generate(noun.prompt)
    size, centre = footprint(asset)
    return Item(
        name=name,
        label=noun.label,
        kind=noun.kind,
        prompt=noun.prompt,
        position=(position[0] - centre[0], position[1] - centre[1], 0.0),
        size=size,
        centre=centre,
        fixed=asset.fixed_base,
    )


def plan_scene(prompt: str) -> Layout:
    """The objects a scene prompt asks for, packed in rows on a floor with walls around them."""
    wanted: list[_Noun] = []
    for mention in _mentions(prompt):
        count = mention.count or (2 if mention.plural else 1)
        wanted += [mention.noun] * min(count, MAX_PER_LABEL)
    if not wanted:
        raise _not_understood(prompt)
    if len(wanted) > MAX_OBJECTS:
        raise PlanError(f"The prompt asks for {len(wanted)} objects; at most {MAX_OBJECTS} fit.")
    numbered: dict[str, int] = {}
    items = []
    for noun in wanted:
        numbered[noun.label] = numbered.get(noun.label, 0) + 1
        items.append(_make(noun, f"{noun.label}_{numbered[noun.label]}", (0.0, 0.0)))
    return _pack(items)


def _pack(items: Sequence[Item]) -> Layout:
    """Rows along +X, rows stacked along +Y, then the whole layout centred in its walls."""
    area = sum((i.size[0] + GAP) * (i.size[1] + GAP) for i in items)
    row_width = max(4.0, 1.3 * math.sqrt(area), *(i.size[0] for i in items))
    placed: list[tuple[Item, float, float]] = []  # item, footprint centre x, y
    x = y = row_depth = used_width = 0.0
    for item in items:
        if x > 0.0 and x + item.size[0] > row_width:
            x, y, row_depth = 0.0, y + row_depth + GAP, 0.0
        placed.append((item, x + item.size[0] / 2, y + item.size[1] / 2))
        x += item.size[0] + GAP
        used_width = max(used_width, x - GAP)
        row_depth = max(row_depth, item.size[1])
    used_depth = y + row_depth
    width, depth = used_width + 2 * MARGIN, used_depth + 2 * MARGIN
    moved = tuple(
        replace(
            item,
            position=(
                cx - used_width / 2 - item.centre[0],
                cy - used_depth / 2 - item.centre[1],
                0.0,
            ),
        )
        for item, cx, cy in placed
    )
    return Layout(round(width, 3), round(depth, 3), moved)


# -- edits --------------------------------------------------------------------------------------


def apply_edit(layout: Layout, prompt: str) -> tuple[Layout, list[str]]:
    """The layout after an edit ("add a conveyor along the north wall", "remove the crates",
    "move the table 1 m east"; several joined by '.', ';' or 'then') and what changed."""
    changes: list[str] = []
    for clause in filter(None, (c.strip() for c in re.split(r"[.;](?!\d)|\bthen\b", prompt))):
        verb = re.match(r"\W*(add|place|put|insert|remove|delete|move|shift|slide)\b", clause, re.I)
        if verb is None:
            raise PlanError(
                f"Cannot tell what to do in {clause[:120]!r}; start with add, remove or move "
                "(e.g. 'move the table 1 m east')."
            )
        action = verb.group(1).lower()
        if action in ("add", "place", "put", "insert"):
            layout, done = _add(layout, clause)
        elif action in ("remove", "delete"):
            layout, done = _remove(layout, clause)
        else:
            layout, done = _move(layout, clause)
        changes += done
    if not changes:
        raise PlanError("The edit names nothing to change.")
    return replace(layout, items=_renumbered(layout.items)), changes


def _renumbered(items: Sequence[Item]) -> tuple[Item, ...]:
    """Names `<Label>_<ordinal among that label>` in scene order: the rule the export writers
    name placements by (`writers.names`), so a record's names are the exported ones."""
    seen: dict[str, int] = {}
    out = []
    for item in items:
        seen[item.label] = seen.get(item.label, 0) + 1
        out.append(replace(item, name=f"{item.label}_{seen[item.label]}"))
    return tuple(out)


def _add(layout: Layout, clause: str) -> tuple[Layout, list[str]]:
    mentions = _mentions(clause)
    if not mentions:
        raise _not_understood(clause)
    wall = _WALL.search(clause.lower())
    items = list(layout.items)
    changes = []
    for mention in mentions:
        for _ in range(min(mention.count or (2 if mention.plural else 1), MAX_PER_LABEL)):
            number = 1 + max(
                (int(i.name.rsplit("_", 1)[1]) for i in items if i.label == mention.noun.label),
                default=0,
            )
            name = f"{mention.noun.label}_{number}"
            item = _free_spot(layout, items, mention.noun, name, wall.group(1) if wall else None)
            items.append(item)
            changes.append(f"added {name}" + (f" along the {wall.group(1)} wall" if wall else ""))
    return replace(layout, items=tuple(items)), changes


def _free_spot(
    layout: Layout, items: Sequence[Item], noun: _Noun, name: str, wall: str | None
) -> Item:
    """The first free spot for `noun`, scanning along `wall` (or the whole floor) in 0.1 m steps."""
    probe = _make(noun, name, (0.0, 0.0))
    hx, hy = probe.size[0] / 2 + 0.05, probe.size[1] / 2 + 0.05
    xs = _steps(-layout.width / 2 + hx, layout.width / 2 - hx)
    ys = _steps(-layout.depth / 2 + hy, layout.depth / 2 - hy)
    if wall == "north":
        ys = [layout.depth / 2 - hy]
    elif wall == "south":
        ys = [-layout.depth / 2 + hy]
    elif wall == "east":
        xs = [layout.width / 2 - hx]
    elif wall == "west":
        xs = [-layout.width / 2 + hx]
    for y in ys:
        for x in xs:
            item = _make(noun, name, (x, y))
            if layout.fits(item, items):
                return item
    where = f"along the {wall} wall" if wall else "on the floor"
    raise PlanError(
        f"No free space {where} for a {noun.label.replace('_', ' ').lower()} "
        f"({probe.size[0]:.2f} m x {probe.size[1]:.2f} m); remove or move something first."
    )


def _steps(lo: float, hi: float, step: float = 0.1) -> list[float]:
    if hi < lo:
        return []
    return [lo + i * step for i in range(int((hi - lo) / step) + 1)]


def _targets(layout: Layout, clause: str) -> list[Item]:
    """The objects a clause means: by name ("Crate_2", "crate 2"), else by noun and count."""
    lowered = clause.lower()
    named = [
        i
        for i in layout.items
        if re.search(rf"\b{re.escape(i.name.lower()).replace('_', '[_ ]')}\b", lowered)
    ]
    if named:
        return named
    mentions = _mentions(clause)
    if not mentions:
        raise _not_understood(clause)
    chosen: list[Item] = []
    for mention in mentions:
        same = [i for i in layout.items if i.label == mention.noun.label]
        same = same or [i for i in layout.items if i.kind is mention.noun.kind]
        if not same:
            raise PlanError(
                f"The scene has no {mention.noun.label.replace('_', ' ').lower()}; it holds "
                f"{', '.join(i.name for i in layout.items) or 'nothing'}."
            )
        if mention.count is not None:
            chosen += same[-mention.count :]
        elif mention.plural:
            chosen += same
        else:
            chosen += same[-1:]  # "the table" among several: the last one named
    return chosen


def _remove(layout: Layout, clause: str) -> tuple[Layout, list[str]]:
    gone = {i.name for i in _targets(layout, clause)}
    kept = tuple(i for i in layout.items if i.name not in gone)
    return replace(layout, items=kept), [f"removed {name}" for name in sorted(gone)]


def _move(layout: Layout, clause: str) -> tuple[Layout, list[str]]:
    distance = _DISTANCE.search(clause.lower())
    if distance is None:
        raise PlanError(
            f"Cannot tell how far or where to move in {clause[:120]!r}; say e.g. '1 m east' "
            "(north, south, east or west)."
        )
    metres = float(distance.group(1)) / (100.0 if distance.group(2).startswith("c") else 1.0)
    dx, dy = (metres * c for c in _DIRECTIONS[distance.group(3)])
    targets = {i.name for i in _targets(layout, clause.lower()[: distance.start()])}
    moved = {
        i.name: replace(i, position=(i.position[0] + dx, i.position[1] + dy, i.position[2]))
        for i in layout.items
        if i.name in targets
    }
    items = tuple(moved.get(i.name, i) for i in layout.items)
    for item in moved.values():
        if not layout.fits(item, [i for i in items if i.name != item.name]):
            raise PlanError(
                f"Moving {item.name} {distance.group(0)} would put it into a wall or another "
                "object; choose a shorter move or another direction."
            )
    return replace(layout, items=items), [f"moved {n} {distance.group(0)}" for n in sorted(moved)]


def place_asset(layout: Layout, prompt: str) -> tuple[Layout, Item]:
    """A single generated asset (any prompt the generator builds) on the first free spot."""
    mentions = _mentions(prompt)
    asset = generate(prompt)
    label = mentions[0].noun.label if mentions else asset.kind.value.title()
    noun = _Noun(label, asset.kind, "", prompt)
    number = 1 + max(
        (int(i.name.rsplit("_", 1)[1]) for i in layout.items if i.label == label), default=0
    )
    wall = _WALL.search(prompt.lower())
    item = _free_spot(
        layout, layout.items, noun, f"{label}_{number}", wall.group(1) if wall else None
    )
    return replace(layout, items=(*layout.items, item)), item
