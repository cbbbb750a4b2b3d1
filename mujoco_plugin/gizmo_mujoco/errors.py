"""The plugin's errors: each says what went wrong and what to do, like the client's."""

from __future__ import annotations

import re
from pathlib import Path

from gizmo_client.errors import GizmoError

__all__ = ["KeyframeNotFoundError", "MjcfLoadError", "RenderError", "ViewerUnavailableError"]

_LINE = re.compile(r"(?:line|Line number=)\s*(\d+)")
_ELEMENT = re.compile(r"Element(?: name)? '([^']*)'|XMLElement name=(\S+)")
_XML_PARSE = re.compile(r"Error=(XML_ERROR_\w+)")
_LOCATION_ONLY = re.compile(r"^Element(?: name)? '[^']*',(?: id \d+,)? line \d+$")
_PREFIX = re.compile(r"^(?:XML Error|Error|ParseXML):\s*")


class MjcfLoadError(GizmoError):
    """MuJoCo refused a scene file; `file`, `line` and `element` point at the fault when known."""

    hint = (
        "Fix the named line of the file, or export the scene again; the previous model (if any) "
        "keeps running."
    )

    def __init__(
        self,
        file: Path,
        reason: str,
        *,
        line: int | None = None,
        element: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.reason = reason
        self.line = line
        self.element = element
        where = str(file)
        if line is not None:
            where += f", line {line}"
        if element:
            where += f", element <{element}>"
        super().__init__(f"MuJoCo could not load {where}: {reason}", hint=hint)

    @classmethod
    def from_mujoco(cls, file: Path, exc: ValueError) -> MjcfLoadError:
        """Parse the line and element out of MuJoCo's message (its format is not structured)."""
        text = str(exc).strip()
        line_match = _LINE.search(text)
        element_match = _ELEMENT.search(text)
        element = (element_match.group(1) or element_match.group(2)) if element_match else None
        return cls(
            file,
            _reason(text),
            line=int(line_match.group(1)) if line_match else None,
            element=element or None,
        )


def _reason(text: str) -> str:
    """MuJoCo's message without its location lines and repeated 'Error:' prefixes."""
    parse_error = _XML_PARSE.search(text)
    if parse_error:
        return f"malformed XML ({parse_error.group(1)})"
    kept = [line.strip() for line in text.splitlines() if not _LOCATION_ONLY.match(line.strip())]
    reason = " ".join(line for line in kept if line)
    while (stripped := _PREFIX.sub("", reason, count=1)) != reason:
        reason = stripped
    return reason or "MuJoCo gave no reason"


class KeyframeNotFoundError(GizmoError):
    """The scene has no keyframe of the asked name; the message lists the ones it has."""

    def __init__(self, name: str, available: list[str]) -> None:
        self.name, self.available = name, available
        have = ", ".join(available) if available else "none"
        hint = f"Use one of: {have}." if available else "Leave out --keyframe."
        super().__init__(f"the scene has no keyframe {name!r} (its keyframes: {have})", hint=hint)


class ViewerUnavailableError(GizmoError):
    """The interactive viewer cannot open here (no display, or no OpenGL window on it)."""

    hint = (
        "Run with --headless (load, step, and --render a PNG), or start a virtual display: "
        "`xvfb-run -a gizmo-mujoco view ...`."
    )


class RenderError(GizmoError):
    """Offscreen rendering failed (no usable OpenGL)."""

    hint = (
        "Set MUJOCO_GL=egl (or osmesa after `apt-get install libosmesa6`) before Python imports "
        "mujoco, or skip the thumbnail."
    )
