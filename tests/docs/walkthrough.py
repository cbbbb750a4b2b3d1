"""The rules of the docs walk-through (issue 13): which fenced blocks run, and how a command
shown to a reader becomes a command run against the test's own server.

Every fenced block of a walked page either runs (``bash`` line by line, ``python`` as a script)
or is preceded by ``<!-- not run: REASON -->``; anything else is an error, so the rule is
visible in the page and cannot be skipped silently.

A shown command is changed only by these rules, applied in order:

1. ``127.0.0.1:8000`` becomes the test server's address.
2. ``gizmo-server --demo &`` is the test's own ``gizmo-server --demo``, already running on a free
   port, with ``--job-seconds 0.2`` so that generation jobs take a fifth of a second.
3. ``export NAME=VALUE`` sets NAME for every later command and snippet.
4. A placeholder becomes an id an earlier command printed (PLACEHOLDERS): the first id of its
   kind in the output of the latest command that printed one.
5. ``gizmo-mujoco view`` without ``--headless`` gets ``--headless --steps 100`` (no display
   here; the viewer itself is tested in tests/mujoco).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

RUN_LANGUAGES = {"bash", "python"}
NOT_RUN = re.compile(r"^<!-- not run: (?P<reason>\S.*?) -->$")
FENCE = re.compile(r"^```(?P<lang>\S*)\s*$")
SHOWN_ADDRESS = "127.0.0.1:8000"
SERVER_LINE = "gizmo-server --demo &"
HEADLESS = "--headless --steps 100"


@dataclass(frozen=True)
class Placeholder:
    """A placeholder and where its id is found: a pattern over stdout, or stdout and stderr."""

    token: re.Pattern[str]
    found: re.Pattern[str]
    in_stderr: bool


PLACEHOLDERS = {
    "scene (jobs)": Placeholder(
        re.compile(r"\bSCENE_ID\b"), re.compile(r"^([a-z0-9]{16})\b", re.M), False
    ),
    "job": Placeholder(re.compile(r"\bJOB_ID\b"), re.compile(r"\b(job_[a-z0-9]+)"), True),
    "scene (alpha)": Placeholder(
        re.compile(r"\bscn_\.\.\."), re.compile(r"\b(scn_[a-z0-9]+)"), False
    ),
    "asset (alpha)": Placeholder(
        re.compile(r"\bast_\.\.\."), re.compile(r"\b(ast_[a-z0-9]+)"), False
    ),
}


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    not_run: str | None  # the reason given by the marker, if any

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(path: Path, root: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, each with the marker on the line before it."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = NOT_RUN.match(before.strip())
        found.append(
            Block(
                page=str(path.relative_to(root)),
                line=index + 1,
                language=opening["lang"],
                text="\n".join(lines[index + 1 : end]),
                not_run=marker["reason"] if marker else None,
            )
        )
        index = end + 1
    return found


def commands(block: Block) -> list[str]:
    """A bash block's commands: continuation lines joined, comments and blank lines dropped."""
    joined = block.text.replace("\\\n", " ")
    shown = (re.sub(r"\s+#\s.*$", "", line).strip() for line in joined.splitlines())
    return [line for line in shown if line and not line.startswith("#")]


class Session:
    """What the walk-through remembers between commands: the environment and the ids printed."""

    def __init__(self, address: str, env: dict[str, str]) -> None:
        self.address = address
        self.env = env
        self.ids: dict[str, str] = {}

    def rewrite(self, shown: str) -> str:
        """The command to run for a shown one (rules 1, 4 and 5)."""
        command = shown.replace(SHOWN_ADDRESS, self.address)
        for kind, placeholder in PLACEHOLDERS.items():
            if placeholder.token.search(command):
                if kind not in self.ids:
                    raise LookupError(f"no earlier command printed an id for {kind!r}: {shown}")
                command = placeholder.token.sub(self.ids[kind], command)
        if command.startswith("gizmo-mujoco view") and "--headless" not in command:
            command = f"{command} {HEADLESS}"
        return command

    def export(self, command: str) -> bool:
        """Rule 3: apply `export NAME=VALUE`; True when the command was one."""
        match = re.fullmatch(r"export ([A-Z_][A-Z0-9_]*)=(\S+)", command)
        if match is None:
            return False
        self.env[match[1]] = match[2]
        return True

    def remember(self, stdout: str, stderr: str) -> None:
        """Rule 4: note the ids a command printed."""
        for kind, placeholder in PLACEHOLDERS.items():
            seen = placeholder.found.search(stdout)
            if seen is None and placeholder.in_stderr:
                seen = placeholder.found.search(stderr)
            if seen is not None:
                self.ids[kind] = seen[1]


def split_top(text: str, separator: str = " | ") -> list[str]:
    """`text` split at `separator` outside brackets (`[--a X | --b Y]` stays whole)."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(text):
        depth += {"[": 1, "]": -1}.get(text[index], 0)
        if depth == 0 and text.startswith(separator, index):
            parts.append(text[start:index].strip())
            start = index = index + len(separator)
            continue
        index += 1
    return [*parts, text[start:].strip()]


def synopsis(block: Block, groups: set[str]) -> list[tuple[list[str], list[str]]]:
    """A CLI synopsis block as (command path, options shown) pairs. A line is
    `gizmo [GROUP] CMD ... | CMD ...`; each alternative after the first is a command of the
    same group; a trailing `(note)` is dropped."""
    found: list[tuple[list[str], list[str]]] = []
    for line in block.text.splitlines():
        words = re.sub(r"\s+\([^)]*\)\s*$", "", line).split(maxsplit=1)
        if not words or words[0] != "gizmo":
            continue
        alternatives = split_top(words[1])
        group = alternatives[0].split()[0] if alternatives[0].split()[0] in groups else None
        for position, alternative in enumerate(alternatives):
            names = alternative.split()
            if group is not None and position == 0:
                names = names[1:]
            path = [group, names[0]] if group else [names[0]]
            found.append((path, re.findall(r"(?<![\w-])(-{1,2}[a-z][a-z-]*)", alternative)))
    return found
