"""Newcomer findings 1 and 5: options where people type them, help that says defaults and
units, bad values refused before any request."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from gizmo_client.cli import EXIT_OK, EXIT_USAGE, build_parser
from gizmo_server.embedded import LocalServer

from .cli_support import gizmo, run, run_json, subprocess_env, use_server


@pytest.fixture
def env(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_server(monkeypatch, local_server, tmp_path)


@pytest.mark.usefixtures("env")
def test_global_options_work_after_the_subcommand(
    local_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    listed = json.loads(run(capsys, "scenes", "list", "--json")[0])
    assert listed["total"] >= 3
    _, err = run(capsys, "scenes", "list", "-v")
    assert "DEBUG gizmo_client: GET /scenes -> 200" in err
    monkeypatch.setenv("GIZMO_BASE_URL", "http://127.0.0.1:9/v1")  # overridden below
    out, _ = run(
        capsys, "login", "--base-url", local_server.base_url, "--api-key", local_server.api_key
    )
    assert out.startswith(f"Logged in to {local_server.base_url} (alpha API generation);")
    assert json.loads((tmp_path / "config.json").read_text())["base_url"] == local_server.base_url


def test_login_help_shows_its_options(local_server: LocalServer, tmp_path: Path) -> None:
    done = gizmo("login", "--help", env=subprocess_env(local_server, tmp_path))
    assert done.returncode == EXIT_OK
    for option in ("--api-key", "--base-url", "--json", "--verbose"):
        assert option in done.stdout
    assert "Check an API key and save it" in done.stdout


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += [sub, *_subparsers(sub)]
    return found


def test_every_subcommand_has_a_description() -> None:
    subs = _subparsers(build_parser())
    assert len(subs) >= 12
    missing = [p.prog for p in subs if not (p.description or "").strip()]
    assert missing == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["scenes", "list"], ["(default: 20)", "1-100", "scenes to skip (default: 0)"]),
        (["assets", "generate"], ["(default: 300)", "seconds"]),
        (
            ["scenes", "fetch"],
            ["default: mjcf", "--timeout SECONDS", "(default: 300)", "--out DIR", "--wait"],
        ),
        (
            ["scenes", "add-asset"],
            ["metres", "scalar last", "(default: 0 0 0 1)", "degrees", "ROLL PITCH YAW"],
        ),
    ],
)
def test_help_states_defaults_and_units(
    command: list[str], expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for phrase in expected:
        assert phrase in text, phrase


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["scenes", "list", "--limit", "0"], "argument --limit: must be from 1 to 100, got 0"),
        (["scenes", "list", "--offset", "-1"], "argument --offset: must be at least 0, got -1"),
        (["scenes", "fetch", "scn_x", "--format", "urdf"], "unsupported format 'urdf' here"),
        (["assets", "generate", "x", "--timeout", "0"], "must be more than 0 seconds"),
        (["scenes", "add-asset", "s", "a", "--position", "1", "2", "nan"], "must be a finite"),
        (["scenes", "add-asset", "s", "a", "--rotation", "0", "0", "0", "0"], "zero norm"),
        (["scenes", "generate", "  "], "argument prompt: the prompt is empty"),
        (["assets", "generate", ""], "argument prompt: the prompt is empty"),
    ],
)
def test_bad_values_are_refused_before_any_request(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str], sent: list[object]
) -> None:
    _, err = run(capsys, *argv, code=EXIT_USAGE)
    assert complaint in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sent == []


@pytest.mark.usefixtures("env")
def test_json_errors_are_json_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    _, err = run(capsys, "--json", "scenes", "show", "scn_missing", code=4)
    error = json.loads(err)["error"]
    assert error["exit_code"] == 4 and error["status"] == 404 and "scn_missing" in error["message"]
    _, err = run(capsys, "scenes", "list", "--limit", "0", "--json", code=EXIT_USAGE)
    assert json.loads(err)["error"]["message"].startswith("argument --limit")


@pytest.mark.usefixtures("env")
def test_json_lists_carry_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    page = run_json(capsys, "scenes", "list", "--limit", "1")
    assert len(page["scenes"]) == 1 and page["total"] >= 3
    assert (page["limit"], page["offset"]) == (1, 0)
    assets = run_json(capsys, "assets", "list", "--limit", "2", "--offset", "1")
    assert len(assets["assets"]) == 2 and assets["total"] >= 3 and assets["offset"] == 1


def test_a_plugin_command_takes_the_global_options_too() -> None:
    parser = build_parser()
    args = parser.parse_args(["loadtest", "-v", "--json"])  # registered by gizmo_loadtest
    assert args.verbose is True and args.json is True
    args = parser.parse_args(["--api-key", "k1", "loadtest"])
    assert args.api_key == "k1"  # the plugin's own --api-key (suppressed default) keeps it
    assert parser.parse_args(["loadtest", "--api-key", "k2"]).api_key == "k2"
