"""scripts/serve_ui.py: the web app's files, run-time settings in /config.js, every other path → index.html."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import REPO


def serve_ui() -> ModuleType:
    spec = importlib.util.spec_from_file_location("serve_ui", REPO / "scripts" / "serve_ui.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>app</title>")
    (dist / "assets" / "app-1234.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not served")
    app = serve_ui().make_app(dist, "http://gw:9/graphql", "")
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", dist
    await runner.cleanup()


async def get(url: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text(), dict(response.headers)


async def test_config_js_carries_the_gateway_url(site: tuple[str, Path]) -> None:
    status, body, headers = await get(f"{site[0]}/config.js")
    assert status == 200
    assert body == 'window.SWITCHBOARD_CONFIG = {"graphqlUrl": "http://gw:9/graphql"};\n'
    assert headers["Cache-Control"] == "no-store"


async def test_assets_are_served_and_cached_for_good(site: tuple[str, Path]) -> None:
    status, body, headers = await get(f"{site[0]}/assets/app-1234.js")
    assert (status, body) == (200, "console.log(1)")
    assert "immutable" in headers["Cache-Control"]
    assert (await get(f"{site[0]}/assets/gone-999.js"))[0] == 404


async def test_other_paths_get_the_app_and_nothing_outside_dist(site: tuple[str, Path]) -> None:
    for path in ("/", "/fine-tune", "/..%2Fsecret.txt", "/assets/..%2F..%2Fsecret.txt"):
        status, body, _ = await get(f"{site[0]}{path}")
        assert "not served" not in body, path
        if not path.startswith("/assets"):
            assert (status, body) == (200, "<!doctype html><title>app</title>"), path


async def test_a_rebuild_is_served_without_a_restart(site: tuple[str, Path]) -> None:
    url, dist = site
    (dist / "assets" / "app-5678.js").write_text("console.log(2)")
    assert (await get(f"{url}/assets/app-5678.js"))[:2] == (200, "console.log(2)")
