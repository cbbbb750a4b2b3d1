"""`gizmo-server keys add|list|revoke` as subprocesses on a temporary data dir, beside a server.

A revocation is made by another process than the running server, which must refuse the key
within its re-check bound (`auth.RECHECK_SECONDS`); the poll below allows far more.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.server.test_cli_server import running


def keys(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "gizmo_server.cli", "keys", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert "Traceback" not in result.stderr + result.stdout
    return result


def _status(base_url: str, path: str, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return requests.get(base_url + path, headers=headers, timeout=10).status_code


def _refused_within(base_url: str, path: str, key: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _status(base_url, path, key) == 401:
            return True
        time.sleep(0.05)
    return False


def test_add_list_revoke_against_a_running_server(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    added = keys("add", "--data", data)
    assert added.returncode == 0, added.stderr
    alpha = added.stdout.strip()
    assert alpha.startswith("gzk_") and len(alpha) > 20
    jobs_added = keys("add", "--generation", "jobs", "--data", data)
    assert jobs_added.returncode == 0, jobs_added.stderr
    jobs = jobs_added.stdout.strip()
    assert jobs.startswith("gzm_k1_")
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(Path(data) / "gizmo.sqlite3").st_mode) == 0o600

    listed = keys("list", "--data", data)
    assert listed.returncode == 0
    assert alpha not in listed.stdout and jobs not in listed.stdout
    assert f"gzk_…{alpha[-4:]}" in listed.stdout and f"gzm_k1_…{jobs[-4:]}" in listed.stdout
    as_json = json.loads(keys("list", "--json", "--data", data).stdout)
    assert {(row["masked"], row["generation"], row["revoked_at"]) for row in as_json} == {
        (f"gzk_…{alpha[-4:]}", "alpha", None),
        (f"gzm_k1_…{jobs[-4:]}", "jobs", None),
    }

    with running("--data", data) as (base_url, printed, _):
        assert printed == []  # the keys were added before: the server prints none of them
        assert _status(base_url, "/scenes", alpha) == 200
        assert _status(base_url, "/whoami", jobs) == 200

        revoked = keys("revoke", alpha[-4:], "--data", data)
        assert revoked.returncode == 0, revoked.stderr
        assert _refused_within(base_url, "/scenes", alpha, seconds=5.0)
        assert _status(base_url, "/whoami", jobs) == 200  # only the revoked key is refused

        assert keys("revoke", f"gzm_k1_…{jobs[-4:]}", "--data", data).returncode == 0
        assert _refused_within(base_url, "/whoami", jobs, seconds=5.0)

    after = json.loads(keys("list", "--json", "--data", data).stdout)
    assert all(row["revoked_at"] for row in after)
    again = keys("add", "--key", alpha, "--data", data)
    assert again.returncode == 2 and "revoked" in again.stderr
    with running("--data", data, "--api-key", alpha) as (base_url, _, _):
        assert _status(base_url, "/scenes", alpha) == 401  # a restart does not bring it back


def test_a_key_given_on_an_earlier_start_is_listed_by_id_and_revocable(tmp_path: Path) -> None:
    data, key = str(tmp_path), "gzk_given_on_the_command_line"
    with running("--data", data, "--api-key", key) as (base_url, _, _):
        assert _status(base_url, "/scenes", key) == 200
        (row,) = json.loads(keys("list", "--json", "--data", data).stdout)
        assert row["masked"] is None and row["id"].startswith("sha256:")
        assert keys("revoke", row["id"], "--data", data).returncode == 0
        assert _refused_within(base_url, "/scenes", key, seconds=5.0)


def test_bad_requests_fail_with_one_line_and_exit_2(tmp_path: Path) -> None:
    data = str(tmp_path)
    assert keys("add", "--key", "gzk_first_key_aaaa", "--data", data).returncode == 0
    assert keys("add", "--key", "gzk_other_key_aaaa", "--data", data).returncode == 0
    cases = {
        ("revoke", "nosuchkey"): "no key matches",
        ("revoke", "aaaa"): "matches 2 keys",
        ("add", "--key", "gzk_alpha_key_here", "--generation", "jobs"): "does not fit",
        ("add", "--key", "short"): "8 to 256 characters",
    }
    for args, message in cases.items():
        result = keys(*args, "--data", data)
        assert result.returncode == 2, args
        assert message in result.stderr and result.stdout == "", args
    missing = keys("list", "--data", str(tmp_path / "none"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert not (tmp_path / "none").exists()
