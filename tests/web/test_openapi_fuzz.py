"""Schemathesis against the served OpenAPI document: no input may cause a server error."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from hub.config import HubConfig
from hub.core import Hub

from .conftest import WEB


class ThreadedHub:
    """A hub on its own event loop thread, so schemathesis' synchronous client can call it."""

    def __init__(self, config_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.hub: Hub = self.run(self._start(config_dir))
        server = self.hub.data["web"]
        owner = self.run(
            server.store.async_create_user("owner", "correct horse", role="admin", is_owner=True)
        )
        self.token: str = self.run(server.store.async_create_token(owner, "fuzz"))[0]
        self.base = f"http://127.0.0.1:{server.port}"

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _start(self, config_dir: Path) -> Hub:
        hub = Hub(HubConfig.minimal(config_dir, demo={"delay": 0, "tick": 3600}, web=dict(WEB)))
        await hub.async_start()
        return hub

    def stop(self) -> None:
        self.run(self.hub.async_stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def threaded_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedHub]:
    hub = ThreadedHub(tmp_path_factory.mktemp("fuzz"))
    yield hub
    hub.stop()


def test_no_server_errors(threaded_hub: ThreadedHub) -> None:
    """Every operation, a handful of generated requests each, with a valid admin token."""
    api_schema = schemathesis.openapi.from_url(f"{threaded_hub.base}/api/openapi.json")
    headers = {"Authorization": f"Bearer {threaded_hub.token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 30
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            response = case.call(base_url=threaded_hub.base, headers=headers, timeout=30)
            # 503 "unavailable" is the documented answer when a component is not configured.
            if response.status_code == 503:
                assert response.json()["code"] == "unavailable", response.text
                return
            assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
            if response.status_code >= 400:
                body = response.json()
                assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str)

        try:
            run()
        except BaseException as err:  # collect every operation's failure, then report them all
            if isinstance(err, KeyboardInterrupt):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {err}")
    assert not failures, "\n".join(failures)
