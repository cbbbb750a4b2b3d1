"""The scene planner: what it reads from prompts, that layouts never overlap, and edits."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from gizmo_server.description import Kind
from gizmo_server.gen2.planner import Layout, PlanError, apply_edit, place_asset, plan_scene
from gizmo_server.gen2.validation import physics_problem

PROMPTS = (
    "a robotics lab with two workbenches and a mobile manipulator",
    "a warehouse aisle with shelves, a conveyor and three crates",
    "a pick cell: a robot arm, a gripper, 4 bins and a table",
    "twelve crates and two conveyor belts",
    "an AGV, three shelves, a desk and several totes",
)


def _kinds(layout: Layout) -> dict[Kind, int]:
    counts: dict[Kind, int] = {}
    for item in layout.items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return counts


def _assert_clear(layout: Layout) -> None:
    for a, b in itertools.combinations(layout.items, 2):
        ax0, ay0, ax1, ay1 = a.rect()
        bx0, by0, bx1, by1 = b.rect()
        assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a.name, b.name)
    for item in layout.items:
        x0, y0, x1, y1 = item.rect()
        assert -layout.width / 2 <= x0 and x1 <= layout.width / 2, item.name
        assert -layout.depth / 2 <= y0 and y1 <= layout.depth / 2, item.name
        assert item.position[2] == 0.0


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (PROMPTS[0], {Kind.TABLE: 2, Kind.MOBILE_BASE: 1}),
        (PROMPTS[1], {Kind.SHELF: 2, Kind.CONVEYOR: 1, Kind.CRATE: 3}),
        (PROMPTS[2], {Kind.ARM: 1, Kind.GRIPPER: 1, Kind.BIN: 4, Kind.TABLE: 1}),
        (PROMPTS[3], {Kind.CRATE: 12, Kind.CONVEYOR: 2}),
        (PROMPTS[4], {Kind.MOBILE_BASE: 1, Kind.SHELF: 3, Kind.TABLE: 1, Kind.BIN: 3}),
    ],
)
def test_counts_and_kinds_come_from_the_prompt(prompt: str, expected: dict[Kind, int]) -> None:
    assert _kinds(plan_scene(prompt)) == expected


@pytest.mark.parametrize("prompt", PROMPTS)
def test_layouts_keep_objects_apart_and_inside_the_walls(prompt: str) -> None:
    layout = plan_scene(prompt)
    _assert_clear(layout)
    assert plan_scene(prompt) == layout  # deterministic
    walls = {w.name: w for w in layout.walls}
    assert walls["wall_north"].centre[1] > layout.depth / 2 > 0


def test_names_are_label_and_ordinal() -> None:
    names = [i.name for i in plan_scene(PROMPTS[0]).items]
    assert names == ["Workbench_1", "Workbench_2", "Mobile_Manipulator_1"]


@pytest.mark.parametrize("prompt", ["a beautiful sunset", "lorem ipsum", "robotics"])
def test_prompts_naming_no_known_object_fail_saying_what_works(prompt: str) -> None:
    with pytest.raises(PlanError, match="workbench"):
        plan_scene(prompt)


def test_too_many_objects_fail() -> None:
    with pytest.raises(PlanError, match="at most"):
        plan_scene("twelve crates, twelve bins, twelve shelves and twelve tables")


def test_add_along_a_wall_puts_it_against_that_wall() -> None:
    layout, changes = apply_edit(plan_scene(PROMPTS[0]), "Add a conveyor belt along the north wall")
    assert changes == ["added Conveyor_1 along the north wall"]
    conveyor = next(i for i in layout.items if i.kind is Kind.CONVEYOR)
    assert layout.depth / 2 - conveyor.rect()[3] < 0.11
    _assert_clear(layout)


def test_remove_all_some_or_one_by_name() -> None:
    base = plan_scene(PROMPTS[1])
    every, _ = apply_edit(base, "remove the crates")
    assert Kind.CRATE not in _kinds(every)
    two, _ = apply_edit(base, "remove two crates")
    assert _kinds(two)[Kind.CRATE] == 1
    named, changes = apply_edit(base, "delete crate 2")
    assert changes == ["removed Crate_2"]
    assert [i.name for i in named.items if i.kind is Kind.CRATE] == ["Crate_1", "Crate_2"]
    with pytest.raises(PlanError, match="no gripper"):
        apply_edit(base, "remove the gripper")


def test_move_by_distance_and_direction_or_refuse_a_collision() -> None:
    base = plan_scene(PROMPTS[0])
    moved, changes = apply_edit(base, "move the table 1 m east")  # a workbench is a table
    assert changes == ["moved Workbench_2 1 m east"]
    before = next(i for i in base.items if i.name == "Workbench_2")
    after = next(i for i in moved.items if i.name == "Workbench_2")
    assert after.position[0] == pytest.approx(before.position[0] + 1.0)
    assert after.position[1] == before.position[1]
    shifted, _ = apply_edit(base, "move workbench 1 50 cm south")
    first = [next(i for i in x.items if i.name == "Workbench_1") for x in (base, shifted)]
    assert first[1].position[1] == pytest.approx(first[0].position[1] - 0.5)
    with pytest.raises(PlanError, match="wall or another object"):
        apply_edit(base, "move the table 20 m east")
    with pytest.raises(PlanError, match="how far"):
        apply_edit(base, "move the table a bit")


def test_several_clauses_and_unknown_verbs() -> None:
    layout, changes = apply_edit(plan_scene(PROMPTS[1]), "remove crate 3; then add a bin")
    assert changes == ["removed Crate_3", "added Bin_1"]
    _assert_clear(layout)
    with pytest.raises(PlanError, match="add, remove or move"):
        apply_edit(layout, "paint the walls blue")


def test_a_generated_asset_lands_on_a_free_spot() -> None:
    layout, item = place_asset(plan_scene(PROMPTS[1]), "a 7-DOF robot arm")
    assert item.kind is Kind.ARM and item.name == "Robot_Arm_1" and item.fixed
    _assert_clear(layout)


def test_physics_validation_passes_planned_scenes_and_catches_bad_ones() -> None:
    layout = plan_scene(PROMPTS[1])
    assert physics_problem(layout) is None
    crate = next(i for i in layout.items if i.kind is Kind.CRATE)
    lifted = replace(crate, position=(crate.position[0], crate.position[1], 3.0))
    falling = replace(layout, items=tuple(lifted if i is crate else i for i in layout.items))
    problem = physics_problem(falling)
    assert problem is not None and problem.startswith(crate.name) and "settled" in problem
    other = next(i for i in layout.items if i is not crate)
    stacked = replace(crate, position=other.position)
    overlapping = replace(layout, items=tuple(stacked if i is crate else i for i in layout.items))
    assert physics_problem(overlapping) in {
        f"{name} overlaps a wall or another object." for name in (crate.name, other.name)
    }
