"""Keyed writes under injected faults: how many writes, retries and duplicates, bytes left over.

Every POST carries an Idempotency-Key and is retried with the same key on a lost answer (a
connection reset, before or after the commit) or a 5xx, as a client should. The scene must end
with exactly one placement per write: `duplicates` counts the extra ones (0 expected), `missing`
the writes lost. `leaked bytes` sums partial files (`.incoming-*`) left in the export store.
Usage: `python bench/bench_reliability.py [--writes N] [--seed S]`.
"""

from __future__ import annotations

import argparse
import uuid

import requests

from gizmo_server.embedded import LocalServer

FAULTS = "reset_after_commit:0.2,reset:0.1,502:0.1,500:0.05,503:0.05"


def _keyed_post(session: requests.Session, url: str, body: dict[str, str]) -> int:
    """POST with one Idempotency-Key until answered below 500; returns the attempts."""
    key = {"Idempotency-Key": str(uuid.uuid4())}
    for attempt in range(1, 21):
        try:
            answer = session.post(url, json=body, headers=key, timeout=30)
        except requests.ConnectionError:
            session.close()  # a reset connection: start a fresh one
            continue
        if answer.status_code < 500:
            answer.raise_for_status()
            return attempt
    raise RuntimeError(f"no answer after 20 attempts: {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with LocalServer(generation_delay=0.0) as server:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {server.api_key}"
        base = server.base_url
        scene = session.post(f"{base}/scenes", json={"name": "Faulty"}, timeout=30).json()["id"]
        asset = session.post(f"{base}/assets", json={"prompt": "crate"}, timeout=30).json()["id"]
        while session.get(f"{base}/assets/{asset}", timeout=30).json()["status"] != "ready":
            pass
        server.configure_faults(FAULTS, seed=args.seed)
        attempts = 0
        for _ in range(args.writes):
            attempts += _keyed_post(session, f"{base}/scenes/{scene}/assets", {"asset_id": asset})
            attempts += _keyed_post(
                session, f"{base}/scenes/{scene}/export", {"format": "mujoco_mjcf"}
            )
        server.configure_faults(None)
        placed = len(session.get(f"{base}/scenes/{scene}", timeout=30).json()["assets"])
        leaked = sum(p.stat().st_size for p in (server.data_dir / "files").rglob(".incoming-*"))
    print(f"faults: {FAULTS} (seed {args.seed})")
    writes = 2 * args.writes  # a placement and an export each
    print(f"writes: {writes}, attempts: {attempts} ({attempts - writes} retries)")
    print(
        f"placements: {placed}, duplicates: {max(0, placed - args.writes)}, "
        f"missing: {max(0, args.writes - placed)}, leaked bytes: {leaked}"
    )


if __name__ == "__main__":
    main()
