"""Serve the built web app (ui/dist) on :3000, on 127.0.0.1 and ::1, with run-time settings in /config.js.

`GRAPHQL_URL` / `GRAPHQL_WS_URL` (optional) tell the app where the gateway is; unset, the app uses the page's
host on port 8080. `UI_HOST` (default: 127.0.0.1 and ::1), `UI_PORT` (default 3000), `UI_DIST` (default ui/dist).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent


def config_js(http_url: str, ws_url: str) -> str:
    settings = {k: v for k, v in {"graphqlUrl": http_url, "graphqlWsUrl": ws_url}.items() if v}
    return f"window.SWITCHBOARD_CONFIG = {json.dumps(settings)};\n"


def make_app(dist: Path, http_url: str = "", ws_url: str = "") -> web.Application:
    index = dist / "index.html"
    if not index.is_file():
        raise SystemExit(f"{index} is missing: build the app first (just ui-build)")
    script = config_js(http_url, ws_url)

    async def config(_: web.Request) -> web.Response:
        return web.Response(text=script, content_type="application/javascript", headers={"Cache-Control": "no-store"})

    root = dist.resolve()

    def find(rel: str) -> Path | None:
        """The file under dist that `rel` names, if any (never outside dist); a rebuild is picked up at once."""
        target = (root / rel).resolve()
        return target if rel and target.is_relative_to(root) and target.is_file() else None

    async def page(request: web.Request) -> web.StreamResponse:
        rel = request.match_info["path"]
        target = await asyncio.to_thread(find, rel)
        if target is not None:
            # hashed file names under assets/ never change
            cache = "public, max-age=31536000, immutable" if rel.startswith("assets/") else "no-cache"
            return web.FileResponse(target, headers={"Cache-Control": cache})
        if rel.startswith("assets/"):
            raise web.HTTPNotFound()
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    app = web.Application()
    app.router.add_get("/config.js", config)
    app.router.add_get("/{path:.*}", page)
    return app


def hosts(value: str) -> list[str]:
    if value:
        return [h.strip() for h in value.split(",") if h.strip()]
    out = ["127.0.0.1"]
    if socket.has_ipv6:
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
            out.append("::1")
        except OSError:
            pass
    return out


async def serve(dist: Path, host_list: list[str], port: int, http_url: str, ws_url: str) -> None:
    runner = web.AppRunner(make_app(dist, http_url, ws_url), access_log=None)
    await runner.setup()
    for host in host_list:
        await web.TCPSite(runner, host, port).start()
    print(f"ui: serving {dist} on http://localhost:{port} ({', '.join(host_list)})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("UI_PORT", "3000")))
    parser.add_argument("--host", default=os.environ.get("UI_HOST", ""))
    parser.add_argument("--dist", type=Path, default=Path(os.environ.get("UI_DIST", ROOT / "ui" / "dist")))
    args = parser.parse_args()
    http_url = os.environ.get("GRAPHQL_URL", "")
    ws_url = os.environ.get("GRAPHQL_WS_URL", "")
    asyncio.run(serve(args.dist, hosts(args.host), args.port, http_url, ws_url))


if __name__ == "__main__":
    main()
