"""Issue 13's acceptance: the README and the API page walked through by running every command
and snippet they show, in order, against a real `gizmo-server --demo` started here.

The rules that turn a shown command into a run one are in `walkthrough.py`; a block that is not
run says why in the page (`<!-- not run: REASON -->`).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gizmo_client.cli import build_parser
from tests.docs.walkthrough import (
    RUN_LANGUAGES,
    SERVER_LINE,
    Block,
    Session,
    blocks,
    commands,
    synopsis,
)

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md", "docs/api.md"]
BIN = Path(sys.executable).parent
TIMEOUT = 90.0


def walked_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(ROOT / page, ROOT)]


@pytest.fixture(scope="module")
def server_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`gizmo-server --demo` as a process on a free loopback port; its address as host:port."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(BIN / "gizmo-server"), "--demo", "--port", "0", "--job-seconds", "0.2"],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30.0
        while (found := re.search(r"base URL:\s+http://(\S+)/v1", log.read_text())) is None:
            assert process.poll() is None, f"gizmo-server exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"gizmo-server did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield found[1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def clean_env(work: Path) -> dict[str, str]:
    """The environment of a reader who has just installed the package: no GIZMO_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIZMO_")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["GIZMO_CACHE_DIR"] = str(work / "cache")
    env["GIZMO_CONFIG"] = str(work / "config.json")
    return env


def check_output(
    where: str, result: subprocess.CompletedProcess[str], redirected_to: Path | None = None
) -> None:
    """Exit 0, no traceback, and output: on stdout, or in the file stdout was redirected to."""
    shown = f"{where}: exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, shown
    assert "Traceback" not in result.stdout + result.stderr, shown
    if redirected_to is not None:
        assert redirected_to.stat().st_size > 0, f"{where}: {redirected_to} is empty"
        return
    assert result.stdout.strip(), f"{where}: printed nothing on stdout\n{shown}"
    last = result.stdout.strip().splitlines()[-1]
    if last.startswith("/"):
        assert Path(last).exists(), f"{where}: printed a path that does not exist: {last}"


def run(argv: list[str], env: dict[str, str], work: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=work, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def test_every_block_runs_or_says_why_not() -> None:
    """A block is bash or python (and runs), or the line before it says why it does not."""
    unexplained = [
        f"{block.where} (```{block.language})"
        for block in walked_blocks()
        if block.not_run is None and block.language not in RUN_LANGUAGES
    ]
    assert not unexplained, f"neither runnable nor marked <!-- not run: REASON -->: {unexplained}"
    assert any(block.not_run is None for block in walked_blocks()), "nothing would run"


def test_walkthrough(server_address: str, tmp_path: Path) -> None:
    """Every shown command and snippet, in page order, exits 0 and prints what it promises."""
    session = Session(server_address, clean_env(tmp_path))
    ran = 0
    for block in walked_blocks():
        if block.not_run is not None:
            continue
        if block.language == "python":
            result = run([sys.executable, "-c", block.text], session.env, tmp_path)
            check_output(f"{block.where} (python)", result)
            ran += 1
            continue
        for shown in commands(block):
            if shown.startswith("gizmo-server"):
                assert shown == SERVER_LINE, f"{block.where}: no rule for {shown!r}"
                continue
            command = session.rewrite(shown)
            if session.export(command):
                continue
            result = run(["bash", "-c", command], session.env, tmp_path)
            redirect = re.search(r">\s*(\S+)$", command)
            target = tmp_path / redirect[1] if redirect else None
            check_output(f"{block.where}: {command}", result, target)
            session.remember(result.stdout, result.stderr)
            ran += 1
    assert ran >= 10, f"only {ran} commands and snippets ran"


def test_readme_demo_runs_headless(tmp_path: Path) -> None:
    """The README's first block: its venv and install are what CI itself does; the demo it ends
    with runs here as shown, with no display (so headless, as the README says), one reload."""
    first = walked_blocks()[0]
    assert first.page == "README.md" and first.not_run is not None
    demo = first.text.split("&&")[-1].strip().removeprefix(".venv/bin/")
    assert demo == "gizmo-mujoco view --demo", demo
    out = tmp_path / "pictures"
    command = f"{demo} --reloads 1 --out {out}"
    result = run(["bash", "-c", command], clean_env(tmp_path), tmp_path)
    check_output(f"{first.where}: {command}", result)
    assert "No display found: running the headless demo" in result.stdout, result.stdout
    assert "Reload 1/1" in result.stdout, result.stdout
    assert len(list(out.glob("*.png"))) == 2, sorted(out.iterdir())


def test_rules_refuse_what_they_cannot_place(tmp_path: Path) -> None:
    """The rules fail loudly: an unmarked text block is found, a placeholder with no id printed
    before it is an error, and an id is taken from the latest command that printed one."""
    page = tmp_path / "page.md"
    page.write_text("```\nsome text\n```\n\n<!-- not run: shown only -->\n```bash\nls\n```\n")
    found = blocks(page, tmp_path)
    assert [(b.language, b.not_run) for b in found] == [("", None), ("bash", "shown only")]
    session = Session("127.0.0.1:1234", {})
    with pytest.raises(LookupError, match="scene \\(alpha\\)"):
        session.rewrite("gizmo scenes show scn_...")
    session.remember("scn_aaaa1\nscn_bbbb2\n", "")
    session.remember("nothing here", "job_cccc3 queued")
    assert session.rewrite("gizmo scenes show scn_...") == "gizmo scenes show scn_aaaa1"
    assert session.rewrite("gizmo jobs watch JOB_ID") == "gizmo jobs watch job_cccc3"
    assert session.rewrite("curl http://127.0.0.1:8000/v1") == "curl http://127.0.0.1:1234/v1"
    assert session.rewrite("gizmo-mujoco view scn_...").endswith("--headless --steps 100")


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-parsers of `parser` by name (none for a leaf command)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_cli_synopsis_matches_the_parser() -> None:
    """Every command and option of the README's CLI synopsis exists in `gizmo`'s parser."""
    commands = subcommands(build_parser())
    groups = {name for name, sub in commands.items() if subcommands(sub)}
    shown = [
        entry
        for block in walked_blocks()
        if block.not_run == "a synopsis, not commands"
        for entry in synopsis(block, groups)
    ]
    assert len(shown) >= 25, shown
    wrong: list[str] = []
    for path, options in shown:
        command = commands.get(path[0])
        if command is not None and len(path) == 2:
            command = subcommands(command).get(path[1])
        if command is None:
            wrong.append(f"no command `gizmo {' '.join(path)}`")
            continue
        known = {option for action in command._actions for option in action.option_strings}
        wrong += [f"`gizmo {' '.join(path)}` has no {o}" for o in options if o not in known]
    assert not wrong, wrong


def test_relative_links_point_at_files() -> None:
    """A link of a walked page to another file of the repository points at one that exists."""
    broken = [
        f"{page}: {target}"
        for page in PAGES
        for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)", (ROOT / page).read_text())
        if "://" not in target and not (ROOT / page).parent.joinpath(target).exists()
    ]
    assert not broken, broken
