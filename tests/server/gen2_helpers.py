"""Plain-HTTP helpers for the newer ("jobs") generation, as programs others wrote would call it."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

WAIT_SECONDS = 20.0


class Gen2:
    """One account of a running server, over plain `requests`."""

    def __init__(self, base_url: str, key: str, *, service_token: bool = False) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if service_token:
            self.session.headers["x-gizmo-service-token"] = key
        else:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=30, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base_url + path, json=json, timeout=30, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=30, **kwargs)

    def ok(self, response: requests.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        assert body["ok"] is True, body
        return body

    def generate(self, prompt: str) -> dict[str, Any]:
        """POST /scenes; the 202 body."""
        return self.ok(self.post("/scenes", {"prompt": prompt}), 202)

    def job(self, job_id: str, include_result: bool = False) -> dict[str, Any]:
        params = {"include_result": "true"} if include_result else {}
        job: dict[str, Any] = self.ok(self.get(f"/jobs/{job_id}", params=params))["job"]
        return job

    def wait(self, job_id: str) -> dict[str, Any]:
        """Poll a job (with its result) until it is terminal."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            job = self.job(job_id, include_result=True)
            if job["status"] in ("succeeded", "failed", "cancelled"):
                return job
            assert time.monotonic() < deadline, f"job stuck: {job}"
            time.sleep(0.02)

    def scene(self, scene_id: str, include_record: bool = True) -> dict[str, Any]:
        params = {"include_record": "true"} if include_record else {}
        scene: dict[str, Any] = self.ok(self.get(f"/scenes/{scene_id}", params=params))["scene"]
        return scene

    def events(self, job_id: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """The SSE stream as parsed events (`id`, `event`, `data`), until the server closes."""
        with self.session.get(
            f"{self.base_url}/jobs/{job_id}/events", stream=True, timeout=30, **kwargs
        ) as response:
            assert response.status_code == 200, response.text
            assert response.headers["Content-Type"].startswith("text/event-stream")
            yield from parse_sse(response.iter_lines(decode_unicode=True))

    def export(self, scene_id: str, fmt: str, **extra: Any) -> zipfile.ZipFile:
        response = self.post(f"/scenes/{scene_id}/export", {"format": fmt, **extra})
        return zip_answer(response)

    def close(self) -> None:
        self.session.close()


def parse_sse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    event: dict[str, Any] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
            continue
        field, _, value = line.partition(": ")
        event[field] = json.loads(value) if field == "data" else value


def zip_answer(response: requests.Response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/zip"
    assert ".zip" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def unpack(archive: zipfile.ZipFile, folder: Path) -> Path:
    archive.extractall(folder)
    return folder


def nested_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The generation's envelope `{"error": {"code", "message", "status"}}` and rate headers."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    error = body["error"]
    assert error["code"] == code and error["status"] == status, body
    assert isinstance(error["message"], str) and len(error["message"]) > 10
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name in response.headers, response.headers
    return body
