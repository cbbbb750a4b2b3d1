"""MJCF checks: compile, placement root poses at t=0 against the API, stable stepping.

The placement root is the single top-level body named `<placement id>/<root name>` (a child of
the world body), whose pose at qpos0 is the placement pose. Loading goes through
`gizmo_mujoco.load_file`, the same loader the viewer uses, so a scene that passes here loads there.
"""

from __future__ import annotations

import time
from pathlib import Path

import mujoco
import numpy as np

import gizmo_mujoco
from gizmo_client.errors import GizmoError
from gizmo_client.models import Scene

from .checks_assets import mjcf_asset_findings, mjcf_keyframe_findings
from .findings import MJCF, Finding, FormatResult, Pose
from .options import CheckOptions
from .placements import (
    ORDER_NOTE,
    api_pose,
    compare_pose,
    expected_placements,
    match,
    matching_findings,
    placement_mentioned,
)

__all__ = ["check_mjcf"]

# The warnings MuJoCo raises when the simulation blows up (it then resets the state by itself,
# so the NaN is gone by the time anyone looks: the warning counter is what remains).
_INSTABILITY = {
    mujoco.mjtWarning.mjWARN_BADQPOS: "position",
    mujoco.mjtWarning.mjWARN_BADQVEL: "velocity",
    mujoco.mjtWarning.mjWARN_BADQACC: "acceleration",
}


def _body_name(model: mujoco.MjModel, body: int) -> str:
    return mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, body) or f"body #{body}"


def _placement_id(model: mujoco.MjModel, body: int) -> str | None:
    """A top-level body's placement id: its `<id>/` name prefix, or the `<name>__placement_id`
    custom text of its `<name>__` prefix (the readable names of the revised contract)."""
    name = _body_name(model, body)
    if "/" in name:
        return name.split("/", 1)[0]
    text = mujoco.mj_name2id(
        model, mujoco.mjtObj.mjOBJ_TEXT, name.split("__", 1)[0] + "__placement_id"
    )
    if "__" not in name or text < 0:
        return None
    start, size = model.text_adr[text], model.text_size[text]
    return bytes(model.text_data[start : start + size - 1]).decode()


def _pose(data: mujoco.MjData, body: int) -> Pose:
    p = data.xpos[body]
    m = data.xmat[body]
    return Pose(
        (float(p[0]), float(p[1]), float(p[2])),
        (
            (float(m[0]), float(m[1]), float(m[2])),
            (float(m[3]), float(m[4]), float(m[5])),
            (float(m[6]), float(m[7]), float(m[8])),
        ),
    )


def check_mjcf(
    path: Path, scene: Scene, options: CheckOptions, thumbnail: Path | None = None
) -> FormatResult:
    """Run every MJCF check on `path` (an .xml or a .zip of one); `thumbnail` gets a PNG at t=0."""
    result = FormatResult(MJCF, file=str(path))
    result.findings += _own_findings(path)
    started = time.perf_counter()
    try:
        model, data = gizmo_mujoco.load_file(path)
    except gizmo_mujoco.MjcfLoadError as exc:
        result.findings.append(
            Finding(
                "mjcf.load",
                f"MuJoCo cannot load the export, so none of the {len(scene.assets)} placements "
                f"could be checked: {exc.message}",
                placement=_placement_at_line(path, exc.line, scene),
                where=f"line {exc.line}" if exc.line is not None else None,
            )
        )
        return result
    result.load_seconds = time.perf_counter() - started
    result.stats.update(bodies=int(model.nbody), joints=int(model.njnt), dofs=int(model.nv))

    labels = _check_roots(model, data, scene, options, result)
    if thumbnail is not None:
        render_started = time.perf_counter()
        try:
            gizmo_mujoco.render_png(model, data, thumbnail)
            result.stats["thumbnail_seconds"] = time.perf_counter() - render_started
        except GizmoError as exc:
            result.notes.append(f"no thumbnail: {exc.message}")
    _check_stepping(model, data, options.steps, labels, result)
    for key in range(model.nkey):
        _check_stepping(model, data, options.steps, labels, result, key)
    return result


def _own_findings(path: Path) -> list[Finding]:
    """Meshes, textures and keyframes of the file as written (before MuJoCo compiles it)."""
    if path.suffix.lower() == ".zip":
        return []  # gizmo_mujoco.load_file unpacks it; its load error says what is wrong
    try:
        spec = mujoco.MjSpec.from_file(str(path))
    except ValueError:
        return []  # not even parseable: the load check reports the line
    return mjcf_asset_findings(spec, path) + mjcf_keyframe_findings(spec)


def _placement_at_line(path: Path, line: int | None, scene: Scene) -> str | None:
    """The placement whose elements the file was describing when MuJoCo gave up at `line`."""
    if line is None or not path.is_file() or path.suffix.lower() == ".zip":
        return None
    with open(path, encoding="utf-8", errors="replace") as handle:
        head = "".join(handle.readline() for _ in range(line))
    return placement_mentioned(head, scene)


def _check_roots(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    scene: Scene,
    options: CheckOptions,
    result: FormatResult,
) -> dict[int, str]:
    """Compare each placement root body with the API; return root body id -> placement label."""
    mujoco.mj_resetData(model, data)
    # Forward, not just kinematics: the thumbnail drawn from this state needs lights and cameras
    # placed too (reset zeroes them; kinematics alone would leave every light at the origin).
    mujoco.mj_forward(model, data)
    roots = [b for b in range(1, model.nbody) if model.body_parentid[b] == 0]
    found = [(_placement_id(model, b), b) for b in roots]
    matching = match(expected_placements(scene), found)
    if matching.by_order and scene.assets:
        result.notes.append(ORDER_NOTE)
    result.findings += matching_findings("mjcf", matching, lambda b: _body_name(model, b))
    tol = options.tolerances
    labels: dict[int, str] = {}
    for expected, body in matching.pairs:
        labels[body] = expected.label
        actual = _pose(data, body)
        result.root_poses[expected.key] = actual
        finding = compare_pose(
            "mjcf.pose",
            "root body pose at t=0 differs from the API",
            api_pose(expected.placement),
            actual,
            tol.position,
            tol.rotation,
            placement=expected.label,
            where=_body_name(model, body),
        )
        if finding:
            result.findings.append(finding)
    return labels


def _check_stepping(
    model: mujoco.MjModel,
    data: mujoco.MjData,
    steps: int,
    labels: dict[int, str],
    result: FormatResult,
    key: int | None = None,
) -> None:
    """Step `steps` times from t=0 (or from keyframe `key`): the state must stay finite and
    MuJoCo must not warn of instability. Stops at the first problem (after it MuJoCo only resets
    and warns again)."""
    start = "t=0"
    if key is None:
        mujoco.mj_resetData(model, data)
    else:
        mujoco.mj_resetDataKeyframe(model, data, key)
        start = f"keyframe {mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_KEY, key) or key!r}"
    started = time.perf_counter()
    step = 0
    for step in range(1, steps + 1):
        mujoco.mj_step(model, data)
        problem = _instability(model, data)
        if problem is not None:
            message, body = problem
            result.findings.append(
                Finding(
                    "mjcf.unstable",
                    f"{message} at step {step} of {steps} from {start}",
                    placement=_label(model, body, labels) if body is not None else None,
                    where=_body_name(model, body) if body is not None else None,
                )
            )
            break
    seconds = time.perf_counter() - started
    if key is None:
        result.stats.update(steps=step, step_seconds=seconds)
    else:
        result.stats["keyframes_stepped"] = int(result.stats.get("keyframes_stepped", 0)) + 1
        result.stats["step_seconds"] = float(result.stats["step_seconds"]) + seconds


def _instability(model: mujoco.MjModel, data: mujoco.MjData) -> tuple[str, int | None] | None:
    """What went wrong in the last step and the body it hit, or None."""
    for warning, quantity in _INSTABILITY.items():
        info = data.warning[warning]
        if info.number:
            return (
                f"MuJoCo found a NaN, Inf or huge {quantity} and reset the simulation",
                _body_of_warning(model, warning, int(info.lastinfo)),
            )
    body = _first_non_finite(model, data)
    return ("the state became NaN/Inf", body) if body is not None else None


def _first_non_finite(model: mujoco.MjModel, data: mujoco.MjData) -> int | None:
    """The body of the first NaN/Inf position or velocity, or None when all are finite."""
    bad_qpos = np.flatnonzero(~np.isfinite(data.qpos))
    if bad_qpos.size:
        return _body_of_qpos(model, int(bad_qpos[0]))
    bad_qvel = np.flatnonzero(~np.isfinite(data.qvel))
    return int(model.dof_bodyid[bad_qvel[0]]) if bad_qvel.size else None


def _body_of_qpos(model: mujoco.MjModel, index: int) -> int:
    """The body whose joint owns position coordinate `index`."""
    joint = int(np.searchsorted(model.jnt_qposadr, index, side="right")) - 1
    return int(model.jnt_bodyid[joint])


def _body_of_warning(model: mujoco.MjModel, warning: int, index: int) -> int | None:
    """The body a warning's `lastinfo` points at (a qpos index for BADQPOS, else a dof index)."""
    if warning == mujoco.mjtWarning.mjWARN_BADQPOS:
        return _body_of_qpos(model, index) if 0 <= index < model.nq else None
    return int(model.dof_bodyid[index]) if 0 <= index < model.nv else None


def _label(model: mujoco.MjModel, body: int, labels: dict[int, str]) -> str | None:
    """The placement a body belongs to (through its top-level ancestor)."""
    root = int(model.body_rootid[body])
    return labels.get(root, _placement_id(model, root))
