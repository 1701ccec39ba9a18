"""``make compose-check``, second half: docker-compose.yml brought up for real with Podman and
the stand-in images (deploy/standins/build.sh makes them first), and played through the proxy.

1. docker-compose 1.29 (its own virtualenv in .cache/compose-venv) drives Podman's
   Docker-compatible API, over the project's docker-compose.yml unchanged, with the proxy
   published on 127.0.0.1 only (PROXY_HOST_IP, read by the compose file). No override file:
   docker-compose 1.29 adds an override's ports to the file's rather than replacing them.
   1.29 predates the Compose Specification's top-level ``name`` (docker compose v2 reads it):
   its schema in this virtualenv is taught to accept the key, and the project name is given
   as ``-p beat-the-ai``, the same.
2. ``build``, then ``up -d --scale dashboard=2``; Podman runs healthchecks from systemd timers,
   and this VM has no systemd, so this process runs each container's healthcheck command
   every interval (``podman healthcheck run``: the image's own command, retries and start
   period), as Docker's daemon would.
3. Every long-running service healthy; every ``depends_on`` held (each dependant started after
   its dependencies were healthy, the image server after the photo pool exited 0).
4. One whole game through the proxy (devtools/compose_game.py, real Dash callbacks): both
   replicas answered its requests (read from the proxy's log); before the last click the
   replica that answered its latest request is restarted, and the game finishes anyway;
   ``/api/stats`` counts it (PostgreSQL).
5. The model container killed: the dashboards report it (``/health`` through the proxy lists
   it missing), and once it is back (restarted by its policy, or started) they recover.
6. ``down -v``: no container, network or volume of the project left. The last line printed
   is the JSON summary.

Traffic: the host's loopback (127.0.0.1:8050) and the project's own container network only.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT = "beat-the-ai"
COMPOSE_VENV = REPO / ".cache" / "compose-venv"
# docker-compose 1.29 builds with the `docker build` command line (COMPOSE_DOCKER_CLI_BUILD):
# this stand-in for it, first on the PATH of docker-compose only, runs `podman build` without
# cached layers. Under the vfs storage driver (no overlay mounts in this VM) every cached
# layer is a whole copy of the image so far: the four images' layers filled this VM's disk.
DOCKER_SHIM = """#!/bin/sh
# written by devtools/compose_check.py: docker-compose 1.29's `docker build` run by Podman
[ "$1" = build ] || { echo "docker stand-in: only 'docker build'" >&2; exit 2; }
shift
for a in "$@"; do
  shift
  case "$prev" in --tag) case "$a" in */*) ;; *) a="docker.io/library/$a" ;; esac ;; esac
  set -- "$@" "$a"; prev=$a
done
exec podman build --layers=false --ulimit "nofile=$(ulimit -n):$(ulimit -n)" "$@"
"""
SOCKET = "/run/beat-the-ai-podman.sock"
URL = "http://127.0.0.1:8050"
# docker-compose 1.29 and the versions of its libraries that still work together.
COMPOSE_PINS = ["docker-compose==1.29.2", "docker==6.1.3", "requests<2.32", "urllib3<2",
                "websocket-client<1", "python-dotenv<1"]
LONG_RUNNING = ["model", "explainer", "image-server", "dashboard", "proxy", "redis", "postgres"]


def log(message: str) -> None:
    print(f"[compose-check] {message}", file=sys.stderr, flush=True)


def run(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, text=True, capture_output=True, **kw)


def compose_venv() -> Path:
    """docker-compose 1.29 (PyPI): PyYAML 5 has no wheel for Python 3.11 and its sdist does
    not build with Cython 3, so it is built first without build isolation."""
    binary = COMPOSE_VENV / "bin" / "docker-compose"
    if binary.exists():
        accept_name()
        return binary
    log("installing docker-compose 1.29.2 into .cache/compose-venv")
    subprocess.run([sys.executable, "-m", "venv", str(COMPOSE_VENV)], check=True)
    pip = [str(COMPOSE_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "cython<3", "wheel", "setuptools"], check=True)
    subprocess.run([*pip, "--no-build-isolation", "pyyaml==5.4.1"], check=True)
    subprocess.run([*pip, *COMPOSE_PINS], check=True)
    accept_name()
    return binary


def accept_name() -> None:
    """docker-compose 1.29's schema refuses the top-level ``name`` that the Compose
    Specification added later (docker compose v2 reads it): accept it as a string. 1.29 then
    ignores it; the check names the project with ``-p``, the same name."""
    [schema_file] = COMPOSE_VENV.glob("lib/python3*/site-packages/compose/config/compose_spec.json")
    schema = json.loads(schema_file.read_text())
    if "name" not in schema["properties"]:
        schema["properties"]["name"] = {"type": "string"}
        schema_file.write_text(json.dumps(schema, indent=2))


class Podman:
    """Podman's Docker API for docker-compose, and the healthchecks Docker's daemon would run."""

    def __init__(self) -> None:
        self.service: subprocess.Popen | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._healthchecks, daemon=True)

    def __enter__(self) -> Podman:
        Path(SOCKET).unlink(missing_ok=True)
        self.service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{SOCKET}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if Path(SOCKET).exists():
                break
            time.sleep(0.1)
        if not Path("/run/systemd/system").is_dir():  # else Podman's timers run them
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.service is not None:
            self.service.terminate()
            self.service.wait(10)

    def _healthchecks(self) -> None:
        due: dict[str, float] = {}
        while not self.stop.wait(1.0):
            ids = run("podman", "ps", "-q", "--filter",
                      f"label=com.docker.compose.project={PROJECT}", check=False).stdout.split()
            now = time.monotonic()
            for cid in ids:
                if due.get(cid, 0) > now:
                    continue
                info = inspect(cid)
                check = info.get("Config", {}).get("Healthcheck") or {}
                if not check.get("Test") or check["Test"][0] == "NONE":
                    due[cid] = now + 3600
                    continue
                due[cid] = now + (check.get("Interval") or 30_000_000_000) / 1e9
                subprocess.Popen(["podman", "healthcheck", "run", cid],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def inspect(cid: str) -> dict:
    out = run("podman", "inspect", cid, check=False).stdout
    return json.loads(out)[0] if out.strip().startswith("[") else {}


def containers(service: str | None = None, all_: bool = False) -> list[dict]:
    args = ["podman", "ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"]
    if service:
        args += ["--filter", f"label=com.docker.compose.service={service}"]
    if all_:
        args.append("-a")
    return [inspect(cid) for cid in run(*args).stdout.split()]


def health(info: dict) -> str:
    state = info.get("State", {})
    return (state.get("Health") or state.get("Healthcheck") or {}).get("Status", "")


def service_of(info: dict) -> str:
    return info["Config"]["Labels"]["com.docker.compose.service"]


def wait_healthy(services: list[str], timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        status = {f"{service_of(c)}/{c['Name']}": health(c) for s in services
                  for c in containers(s)}
        healthy = sorted({k.split("/")[0] for k, v in status.items() if v == "healthy"})
        if all(v == "healthy" for v in status.values()) and set(healthy) == set(services):
            return healthy
        if time.monotonic() > deadline:
            raise RuntimeError(f"not healthy in {timeout:.0f} s: {status}")
        time.sleep(2)


def parse_time(text: str) -> float:
    """Podman's RFC 3339 times (nanoseconds, zone) as epoch seconds."""
    from datetime import datetime

    text = text.replace("Z", "+00:00")
    head, _, rest = text.partition(".")
    digits = re.match(r"\d*", rest)[0]  # the fraction: the leading digits only
    zone = rest[len(digits):].split()[0] if rest[len(digits):].strip() else ""
    stamp = datetime.fromisoformat(head + zone) if zone else datetime.fromisoformat(head)
    return stamp.timestamp() + (float("0." + digits) if digits else 0.0)


def depends_on_held(compose: dict) -> None:
    """Each dependant started after its dependencies were healthy (their first passing
    healthcheck) or, for the one-shot, had exited 0."""
    first: dict[str, dict] = {}
    for service in compose["services"]:
        runs = containers(service, all_=True)
        if runs:
            first[service] = runs[0]
    for name, service in compose["services"].items():
        if name not in first:
            continue
        started = parse_time(first[name]["State"]["StartedAt"])
        for needed, need in service.get("depends_on", {}).items():
            dep = first[needed]
            if need["condition"] == "service_completed_successfully":
                assert dep["State"]["ExitCode"] == 0, (needed, dep["State"])
                ready = parse_time(dep["State"]["FinishedAt"])
            else:
                state = dep["State"]
                logs = (state.get("Health") or state.get("Healthcheck") or {}).get("Log") or []
                passed = [parse_time(e["Start"]) for e in logs if e.get("ExitCode") == 0]
                # the log keeps the last few checks only: a dependency healthy now that
                # passed before the dependant started is enough
                ready = min(passed) if passed else float("inf")
            assert ready <= started + 1.0, f"{name} started before {needed} was ready"


def get_json(path: str, timeout: float = 5) -> dict:
    with urllib.request.urlopen(URL + path, timeout=timeout) as r:
        return json.loads(r.read())


def proxy_upstreams(since: float) -> list[str]:
    """The replicas (IP:port) that answered the game's callbacks, from the proxy's log."""
    [proxy] = containers("proxy")
    lines = run("podman", "logs", proxy["Id"], check=False).stdout.splitlines()
    upstreams = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") != "request" or entry.get("path") != "/_dash-update-component":
            continue
        if parse_time(entry["time"]) + 1 >= since and entry.get("upstream"):
            upstreams.append(entry["upstream"].split(",")[-1].strip())
    return upstreams


def replica_names() -> dict[str, str]:
    """Each dashboard replica's address (IP:8050) and container name, as they are now."""
    return {f"{net['IPAddress']}:8050": c["Name"] for c in containers("dashboard")
            for net in (c["NetworkSettings"].get("Networks") or {}).values()
            if net.get("IPAddress")}


def play(result: dict) -> None:
    stats_before = get_json("/api/stats")["games"]
    started = time.time()
    game = subprocess.Popen([sys.executable, "-m", "devtools.compose_game", URL], cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    paused = json.loads(game.stdout.readline() or "{}")
    assert paused.get("paused"), "the game did not reach its last round"
    upstreams = proxy_upstreams(started)
    # Podman gives a restarted container a new address: the names are taken before, and after
    names = replica_names()
    last = names[upstreams[-1]]
    log(f"{paused['rounds']} rounds over {sorted(set(upstreams))}; restarting "
        f"{last}, the replica of the latest request")
    run("podman", "restart", last)
    wait_healthy(["dashboard"], 120)
    game.stdin.write("go\n")
    game.stdin.flush()
    finished = json.loads(game.stdout.readline() or "{}")
    game.wait(60)
    names.update(replica_names())
    replicas = {names[u] for u in proxy_upstreams(started)}
    log(f"the game's requests answered by {sorted(replicas)}; finished: {finished}")
    result["replicas_answered"] = len(replicas)
    result["survived_restart"] = bool(finished.get("finished"))
    result["game_played"] = bool(finished.get("finished")) and game.returncode == 0
    for _ in range(30):
        result["stats_games"] = get_json("/api/stats")["games"]
        if result["stats_games"] > stats_before:
            break
        time.sleep(1)


def model_outage(result: dict) -> None:
    [model] = containers("model")
    run("podman", "kill", model["Id"])
    reported = False
    for _ in range(60):
        with contextlib.suppress(OSError):
            reported = "model" in get_json("/health").get("missing", [])
        if reported:
            break
        time.sleep(1)
    log(f"model killed; the dashboards report it: {reported}")
    time.sleep(3)
    if inspect(model["Id"])["State"]["Status"] != "running":  # not brought back by its policy
        run("podman", "start", model["Id"])
    wait_healthy(["model"], 240)
    recovered = False
    for _ in range(60):
        with contextlib.suppress(OSError):
            recovered = get_json("/health").get("missing") == []
        if recovered:
            break
        time.sleep(1)
    result["model_recovered"] = reported and recovered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the stack up at the end")
    args = parser.parse_args()
    import yaml

    compose_file = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    binary = compose_venv()
    assert compose_file["name"] == PROJECT
    shim = COMPOSE_VENV / "docker-cli" / "docker"
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(DOCKER_SHIM)
    shim.chmod(0o755)
    env = {**os.environ, "DOCKER_HOST": f"unix://{SOCKET}", "COMPOSE_PROJECT_NAME": PROJECT,
           "COMPOSE_DOCKER_CLI_BUILD": "1", "DOCKER_BUILDKIT": "0",
           "PATH": f"{shim.parent}:{os.environ['PATH']}",
           "PROXY_HOST_IP": "127.0.0.1"}  # the proxy on this machine's loopback only
    compose = [str(binary), "-p", PROJECT, "-f", str(REPO / "docker-compose.yml")]
    result: dict = {"healthy": [], "replicas_answered": 0, "game_played": False,
                    "stats_games": 0, "survived_restart": False, "model_recovered": False}
    start = time.monotonic()
    with Podman():
        try:
            log("docker-compose build")
            subprocess.run([*compose, "build", "-q"], cwd=REPO, env=env, check=True)
            log("docker-compose up -d --scale dashboard=2")
            subprocess.run([*compose, "up", "-d", "--scale", "dashboard=2"], cwd=REPO, env=env,
                           check=True)
            result["healthy"] = wait_healthy(LONG_RUNNING, 600)
            depends_on_held(compose_file)
            log(f"healthy: {result['healthy']}; depends_on held")
            play(result)
            model_outage(result)
        except Exception as e:  # reported, and the stack still comes down
            log(f"FAILED: {type(e).__name__}: {e}")
            result["error"] = f"{type(e).__name__}: {e}"
        finally:
            if not args.keep:
                subprocess.run([*compose, "down", "-v", "--remove-orphans", "-t", "10"],
                               cwd=REPO, env=env, check=False, capture_output=True)
                left = run("podman", "ps", "-aq", "--filter",
                           f"label=com.docker.compose.project={PROJECT}").stdout.split()
                volumes = [v for v in run("podman", "volume", "ls", "-q").stdout.split()
                           if v.startswith(PROJECT)]
                networks = [n for n in run("podman", "network", "ls", "-q").stdout.split()
                            if n.startswith(PROJECT)]
                if left or volumes or networks:
                    result["left_behind"] = left + volumes + networks
    result["seconds"] = round(time.monotonic() - start)
    print(json.dumps(result), flush=True)
    ok = (result["game_played"] and result["replicas_answered"] == 2
          and result["survived_restart"] and result["model_recovered"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
