"""docker-compose.yml: the services, ports, health checks, start order and volumes users rely on,
and the files it mounts into official images: the proxy's deploy/nginx.conf, TF Serving's
batching parameters and monitoring config, and the `monitoring` profile's
deploy/prometheus.yml (checked by Debian's promtool where it is installed).

Docker cannot run here, so the compose file is checked as data (every path it builds from or
mounts exists), Redis's command line is run by Debian's redis-server, the batching file is
parsed as the proto TF Serving reads, and nginx.conf is run by Debian's nginx in front of two
loopback HTTP servers standing in for two dashboard replicas.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
import yaml
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    text_format,
    wrappers_pb2,
)

from devtools.servers import REPO, free_port, stop
from tests import nginx
from tests.redis_server import require as redis_server_binary

PROXY_CONF = REPO / "deploy" / "nginx.conf"
BATCHING_FLAG = "--batching_parameters_file="


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def one_shots(services: dict) -> set[str]:
    """Jobs that run to completion (the photo pool's preparation): whatever another service
    waits on with ``service_completed_successfully``."""
    return {name for s in services.values() for name, need in s.get("depends_on", {}).items()
            if need["condition"] == "service_completed_successfully"}


def test_services_and_official_images(compose):
    services = compose["services"]
    assert set(services) == {"model", "explainer", "photo-pool", "image-server", "dashboard",
                             "proxy", "redis", "postgres", "prometheus"}
    assert "tensorflow/serving:" in services["model"]["image"]
    assert "--enable_model_warmup=true" in services["model"]["command"]
    assert services["proxy"]["image"].startswith("nginx:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["postgres"]["image"].startswith("postgres:")


def test_only_the_proxy_is_published(compose):
    """The dashboards and the back-ends stay on the compose network; the file shows developers
    how to publish a back-end, on loopback only."""
    published = {name: s["ports"] for name, s in compose["services"].items() if "ports" in s}
    assert published == {"proxy": ["${PROXY_HOST_IP:-0.0.0.0}:8050:8050"]}
    text = (REPO / "docker-compose.yml").read_text()
    for ports in ('"127.0.0.1:8501:8501", "127.0.0.1:8500:8500"', '"127.0.0.1:5001:5001"',
                  '"127.0.0.1:8081:8081"', '"127.0.0.1:9090:9090"'):
        assert f"    # ports: [{ports}]" in text


def test_the_dashboard_scales_behind_the_proxy(compose):
    """`--scale dashboard=N` needs a service without a fixed name or host port, and a proxy
    that reaches every replica by the service's name on the port the image listens on."""
    services = compose["services"]
    dashboard = services["dashboard"]
    assert not {"container_name", "ports", "volumes"} & set(dashboard)
    assert dashboard["expose"] == ["8050"]
    assert '"--bind", "0.0.0.0:8050"' in (REPO / "dashboard" / "Dockerfile").read_text()
    assert not any("container_name" in s for s in services.values())
    # a template: the image's entrypoint fills in the container's DNS server as `resolver`
    assert ("./deploy/nginx.conf:/etc/nginx/templates/nginx.conf.template:ro"
            in services["proxy"]["volumes"])
    # the first of resolv.conf's servers only: the network's own (Podman appends the host's)
    assert ("./deploy/nginx-first-resolver.envsh:/docker-entrypoint.d/16-first-resolver.envsh:ro"
            in services["proxy"]["volumes"])
    assert os.access(REPO / "deploy" / "nginx-first-resolver.envsh", os.X_OK)  # else skipped
    assert services["proxy"]["environment"] == {"NGINX_ENTRYPOINT_LOCAL_RESOLVERS": "1",
                                                "NGINX_ENVSUBST_OUTPUT_DIR": "/etc/nginx"}
    upstream = re.search(r"upstream dashboard \{(.*?)\n    \}", PROXY_CONF.read_text(), re.S)[1]
    assert re.search(r"^\s*server dashboard:8050 resolve\b", upstream, re.M)
    assert re.search(r"^\s*zone dashboard ", upstream, re.M)  # `resolve` needs a shared zone
    assert not re.search(r"^\s*(ip_hash|hash|sticky)\b", upstream, re.M)  # no sticky sessions
    assert re.search(r"^    resolver \$\{NGINX_LOCAL_RESOLVERS\} valid=\d+s",
                     PROXY_CONF.read_text(), re.M)
    health = services["proxy"]["healthcheck"]["test"]
    assert health[-1] == "http://127.0.0.1:8050/proxy/health"


def test_the_proxys_keep_alive_fits_the_replicas_and_the_players():
    """Idle connections to a replica are let go before gunicorn drops them (a POST sent on one
    gunicorn is closing would fail and cannot be retried); the visitors' idle connections
    outlive the kiosk's whole idle cycle; POSTs are never passed on twice."""
    from gunicorn.config import Config

    from dashboard import gunicorn_conf
    from dashboard.settings import Settings

    conf = PROXY_CONF.read_text()
    upstream = re.search(r"upstream dashboard \{(.*?)\n    \}", conf, re.S)[1]
    to_replicas = int(re.search(r"keepalive_timeout (\d+)s;", upstream)[1])
    assert to_replicas < getattr(gunicorn_conf, "keepalive", Config().keepalive)
    to_visitors = int(re.search(r"^    keepalive_timeout (\d+)s;", conf, re.M)[1])
    settings = Settings()
    assert to_visitors > settings.idle_seconds + settings.idle_countdown_seconds
    assert "non_idempotent" not in conf


def test_back_ends_listen_on_loopback_outside_docker_and_on_all_interfaces_inside():
    """Every start path but a container's listens on 127.0.0.1 (the settings' default, which
    the make targets keep); a container listens on all of its interfaces, where only compose
    decides what is published."""
    from explainer.settings import Settings as ExplainerSettings
    from image_server.settings import Settings as ImageServerSettings
    from model.serving.settings import Settings as ModelServerSettings

    for settings in (ModelServerSettings, ExplainerSettings, ImageServerSettings):
        assert settings.model_fields["host"].default == "127.0.0.1", settings
    makefile = (REPO / "Makefile").read_text()
    for target in ("model-server", "explainer", "image-server"):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert "0.0.0.0" not in recipe and "HOST" not in recipe, target
    assert "ENV EXPLAINER_HOST=0.0.0.0" in (REPO / "explainer/Dockerfile").read_text()
    assert "listen 8081;" in (REPO / "image_server/nginx.conf").read_text()


def test_long_running_services_have_healthchecks_and_wait_for_their_dependencies(compose):
    services = compose["services"]
    assert one_shots(services) == {"photo-pool"}
    for name, service in services.items():
        if name in one_shots(services):
            assert "restart" not in service and "healthcheck" not in service, name
            continue
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name
        for needed, need in service.get("depends_on", {}).items():
            # A long-running dependency is waited for until healthy, never just started.
            assert need == {"condition": "service_healthy"} or needed in one_shots(services)
    assert "/v1/models/car_classifier" in " ".join(services["model"]["healthcheck"]["test"])
    assert services["explainer"]["depends_on"] == {"model": {"condition": "service_healthy"}}
    assert services["image-server"]["depends_on"] == {
        "photo-pool": {"condition": "service_completed_successfully"}}
    assert services["dashboard"]["depends_on"] == {
        name: {"condition": "service_healthy"}
        for name in ("model", "explainer", "image-server", "postgres", "redis")}
    assert services["proxy"]["depends_on"] == {"dashboard": {"condition": "service_healthy"}}
    env = services["dashboard"]["environment"]
    assert env["DASHBOARD_MODEL_URL"] == "http://model:8501"
    assert env["DASHBOARD_EXPLAINER_URL"] == "http://explainer:5001"
    assert env["DASHBOARD_IMAGE_SERVER_URL"] == "http://image-server:8081"


def test_volumes_and_mounted_files(compose):
    services = compose["services"]
    assert "./model/export/car_classifier:/models/car_classifier:ro" in services["model"]["volumes"]
    assert any(v.endswith(":/data:ro") for v in services["photo-pool"]["volumes"])
    assert "photo-pool:/srv/pool:ro" in services["image-server"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]  # the append-only file
    assert "statistics:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert set(compose["volumes"]) == {"photo-pool", "redis-data", "statistics",
                                       "prometheus-data"}
    assert (REPO / "model/export/car_classifier/1/saved_model.pb").is_file()
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), (name, source)


def test_every_build_points_at_a_dockerfile_that_exists(compose):
    for name, service in compose["services"].items():
        build = service.get("build")
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        dockerfile = REPO / build["context"] / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), name
        for line in dockerfile.read_text().splitlines():
            # from a build stage, or the wheel set that `make wheels` downloads
            if line.startswith("COPY ") and "--from=" not in line and ".cache/wheels" not in line:
                for source in line.split()[1:-1]:
                    assert (REPO / build["context"] / source).exists(), (name, source)


def test_statistics_go_to_a_healthy_postgresql(compose):
    services = compose["services"]
    postgres = services["postgres"]
    dashboard = services["dashboard"]
    assert dashboard["environment"]["DASHBOARD_DATABASE_URL"].startswith("postgresql://")
    assert "pg_isready" in postgres["healthcheck"]["test"]


def test_games_go_to_a_bounded_persistent_redis(compose, tmp_path):
    """Debian's redis-server runs compose's command line (only where it listens and writes
    swapped): append-only, bounded at the dashboard's own store size, least recently played
    games evicted first; its healthcheck's `redis-cli ping` answers PONG."""
    binary = redis_server_binary()  # skips when it is missing
    services = compose["services"]
    env = services["dashboard"]["environment"]
    assert env["DASHBOARD_STORE_URL"] == "redis://redis:6379/0"
    assert "DASHBOARD_STORE_DIR" not in env
    command = services["redis"]["command"]
    assert command[0] == "redis-server"
    assert "redis-cli ping" in services["redis"]["healthcheck"]["test"][1]
    port = free_port()
    proc = subprocess.Popen([binary, *command[1:], "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port, socket_timeout=2)
        for _ in range(50):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        config = client.config_get("*")
        assert config["appendonly"] == "yes"
        assert config["save"] == ""
        assert config["maxmemory"] == env["DASHBOARD_STORE_MAX_BYTES"]
        assert config["maxmemory-policy"] == "allkeys-lru"
        ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                              text=True, timeout=5)
        assert ping.stdout.strip() == "PONG"
    finally:
        stop(proc)


# --- TF Serving's batching ---------------------------------------------------------------

def batching_parameters_class() -> type:
    """``tensorflow.serving.BatchingParameters``, field for field as in tensorflow/serving's
    session_bundle_config.proto (tensorflow-serving-api ships only the API protos, not this
    one, and protoc is not installed, so the message is declared here from that file)."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    proto = descriptor_pb2.FileDescriptorProto(
        name="tensorflow_serving/servables/tensorflow/session_bundle_config.proto",
        package="tensorflow.serving", syntax="proto3",
        dependency=["google/protobuf/wrappers.proto"])
    message = proto.message_type.add(name="BatchingParameters")
    field = descriptor_pb2.FieldDescriptorProto
    for name, number, wrapper in [
        ("max_batch_size", 1, "Int64Value"), ("batch_timeout_micros", 2, "Int64Value"),
        ("max_enqueued_batches", 3, "Int64Value"), ("num_batch_threads", 4, "Int64Value"),
        ("thread_pool_name", 5, "StringValue"), ("enable_large_batch_splitting", 8, "BoolValue"),
        ("max_execution_batch_size", 9, "Int64Value"),
    ]:
        message.field.add(name=name, number=number, type=field.TYPE_MESSAGE,
                          label=field.LABEL_OPTIONAL, type_name=f".google.protobuf.{wrapper}")
    message.field.add(name="allowed_batch_sizes", number=6, type=field.TYPE_INT64,
                      label=field.LABEL_REPEATED)
    message.field.add(name="pad_variable_length_inputs", number=7, type=field.TYPE_BOOL,
                      label=field.LABEL_OPTIONAL)
    pool.Add(proto)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tensorflow.serving.BatchingParameters"))


def test_tf_serving_batches_the_games_shapes(compose):
    """The file TF Serving is told to read is the committed one, parses as BatchingParameters
    (a misspelt field fails here, not in the container), sets every knob explicitly, and fits
    the calls the game makes: one of 5 photos per game, 12 per /explore batch, 1 per upload,
    none larger than max_batch_size (TF Serving refuses those)."""
    from dashboard.pages.explore import BATCH
    from dashboard.settings import Settings as DashboardSettings
    from explainer.settings import Settings as ExplainerSettings

    model = compose["services"]["model"]
    assert "--enable_batching=true" in model["command"]
    path = next(a for a in model["command"] if a.startswith(BATCHING_FLAG))[len(BATCHING_FLAG):]
    mount = next(v for v in model["volumes"] if v.split(":")[1] == path)
    assert mount.endswith(":ro")
    source = REPO / mount.split(":")[0]
    assert "model/export" not in str(source.relative_to(REPO))  # not a model version's file
    params = text_format.Parse(source.read_text(), batching_parameters_class()())
    for knob in ("max_batch_size", "batch_timeout_micros", "num_batch_threads",
                 "max_enqueued_batches"):
        assert params.HasField(knob), knob
    assert "pad_variable_length_inputs: false" in source.read_text()
    sizes = list(params.allowed_batch_sizes)
    assert sizes == sorted(set(sizes)) and sizes[-1] == params.max_batch_size.value
    rounds = DashboardSettings.model_fields["rounds"]
    most_rounds = next(m.le for m in rounds.metadata if hasattr(m, "le"))
    largest_call = max(most_rounds, BATCH, ExplainerSettings.model_fields["max_batch"].default)
    assert params.max_batch_size.value >= largest_call
    assert {1, rounds.default, BATCH} <= set(sizes)  # an upload, a game, an explore batch
    assert 0 < params.batch_timeout_micros.value <= 10_000  # TF Serving's advice for CPUs
    assert params.num_batch_threads.value >= 1 and params.max_enqueued_batches.value >= 1


def test_a_misspelt_batching_parameter_is_caught():
    """The check above can fail: TF Serving's parser and this one refuse an unknown field."""
    with pytest.raises(text_format.ParseError, match="max_batch_sise"):
        text_format.Parse("max_batch_sise { value: 30 }", batching_parameters_class()())


# --- the monitoring profile: Prometheus over the dashboards and the model -------------------

PROMETHEUS_CONF = REPO / "deploy" / "prometheus.yml"
MONITORING_FLAG = "--monitoring_config_file="


def monitoring_config_class() -> type:
    """``tensorflow.serving.MonitoringConfig``, as in tensorflow/serving's
    config/monitoring_config.proto (not shipped by tensorflow-serving-api; declared here like
    the batching parameters above)."""
    pool = descriptor_pool.DescriptorPool()
    proto = descriptor_pb2.FileDescriptorProto(
        name="tensorflow_serving/config/monitoring_config.proto",
        package="tensorflow.serving", syntax="proto3")
    field = descriptor_pb2.FieldDescriptorProto
    prometheus = proto.message_type.add(name="PrometheusConfig")
    prometheus.field.add(name="enable", number=1, type=field.TYPE_BOOL,
                         label=field.LABEL_OPTIONAL)
    prometheus.field.add(name="path", number=2, type=field.TYPE_STRING,
                         label=field.LABEL_OPTIONAL)
    monitoring = proto.message_type.add(name="MonitoringConfig")
    monitoring.field.add(name="prometheus_config", number=1, type=field.TYPE_MESSAGE,
                         label=field.LABEL_OPTIONAL,
                         type_name=".tensorflow.serving.PrometheusConfig")
    pool.Add(proto)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tensorflow.serving.MonitoringConfig"))


def test_prometheus_is_an_optional_profile_and_not_published(compose):
    """`docker compose up` starts no Prometheus; `--profile monitoring` does, from the
    official image, with the committed config and a volume for its data."""
    services = compose["services"]
    prometheus = services["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:v")
    assert prometheus["profiles"] == ["monitoring"]
    assert not any("profiles" in s for name, s in services.items() if name != "prometheus")
    assert "ports" not in prometheus
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    assert "prometheus-data:/prometheus" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert "--storage.tsdb.path=/prometheus" in prometheus["command"]


def test_prometheus_scrapes_every_dashboard_replica_and_the_model(compose):
    """Every replica by Docker's DNS (`--scale` included) on the port the image listens on,
    at the path the dashboard serves; the model where TF Serving serves its metrics, with the
    flag that turns them on and a config that parses as TF Serving's proto."""
    from model.serving.routes import METRICS_PATH

    conf = yaml.safe_load(PROMETHEUS_CONF.read_text())
    jobs = {job["job_name"]: job for job in conf["scrape_configs"]}
    dashboard = jobs["dashboard"]
    assert dashboard["metrics_path"] == "/metrics"
    [dns] = dashboard["dns_sd_configs"]
    assert (dns["names"], dns["type"], dns["port"]) == (["dashboard"], "A", 8050)
    assert "8050" in compose["services"]["dashboard"]["expose"]
    assert "static_configs" not in dashboard  # one static target would miss the replicas
    model = jobs["model"]
    assert model["metrics_path"] == METRICS_PATH
    assert model["static_configs"] == [{"targets": ["model:8501"]}]
    service = compose["services"]["model"]
    path = next(a for a in service["command"]
                if a.startswith(MONITORING_FLAG))[len(MONITORING_FLAG):]
    mount = next(v for v in service["volumes"] if v.split(":")[1] == path)
    assert mount.endswith(":ro")
    config = text_format.Parse((REPO / mount.split(":")[0]).read_text(),
                               monitoring_config_class()())
    assert config.prometheus_config.enable
    assert config.prometheus_config.path == METRICS_PATH


def test_the_dashboard_serves_metrics_where_prometheus_scrapes(tmp_path):
    from tests.callbacks import offline_app

    conf = yaml.safe_load(PROMETHEUS_CONF.read_text())
    [job] = [j for j in conf["scrape_configs"] if j["job_name"] == "dashboard"]
    response = offline_app(tmp_path).server.test_client().get(job["metrics_path"])
    assert response.status_code == 200
    assert b"beat_the_ai_games_started_total" in response.data


def test_promtool_accepts_the_prometheus_config():
    """`promtool check config`, where Debian's `prometheus` package is installed."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is missing: apt-get install prometheus (Debian)")
    result = subprocess.run([promtool, "check", "config", str(PROMETHEUS_CONF)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


# --- the proxy under Debian's nginx --------------------------------------------------------

class Replica(ThreadingHTTPServer):
    """A stand-in for one dashboard replica: answers which replica it is and how many body
    bytes it got; drops an idle keep-alive connection after 2 s, as gunicorn does; ``busy``
    answers 503 with Retry-After, as an overloaded dashboard does."""

    daemon_threads = True

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), ReplicaHandler)
        self.name, self.busy = name, False
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class ReplicaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 2  # gunicorn's keep-alive

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = 503 if self.server.busy else 200
        answer = json.dumps({"replica": self.server.name, "bytes": len(body),
                             "forwarded_for": self.headers.get("X-Forwarded-For")}).encode()
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        """Quiet: the proxy logs every request."""


def container_only_swapped(conf: str, work: Path, port: int, upstreams: list[int]) -> str:
    """deploy/nginx.conf with the lines marked container-only swapped for this machine: no
    `user nginx` (Debian has no such user; nginx runs as the test's user), the pid file, the
    listen port and the temporary files in ``work`` (Debian's nginx keeps them under
    /var/lib/nginx, root's), and static loopback replicas for `server dashboard:8050 resolve`
    (Debian's nginx 1.22 predates `resolve`), and loopback for the resolver the image's
    entrypoint fills in (unused with static replicas). Each swapped
    line must be there exactly once, so the config cannot drift from what is tested."""
    assert conf.count("# container-only") == 5  # the five swapped below
    replicas = "".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n"
                       for p in upstreams)
    temp = nginx.temp_paths(work, indent="    ")
    for pattern, new in [
        (r"^user nginx;.*\n", ""),
        (r"^pid /run/nginx\.pid;.*\n", f"pid {work}/nginx.pid;\n"),
        (r"^        listen 8050;.*\n", f"        listen 127.0.0.1:{port};\n"),
        (r"^        server dashboard:8050 resolve max_fails=1 fail_timeout=5s;.*\n", replicas),
        (r"^    resolver \$\{NGINX_LOCAL_RESOLVERS\} (.*);.*\n", r"    resolver 127.0.0.1 \1;\n"),
        (r"^http \{\n", "http {\n" + temp),
    ]:
        conf, count = re.subn(pattern, new, conf, flags=re.M)
        assert count == 1, f"deploy/nginx.conf no longer matches {pattern!r}"
    return conf


@contextmanager
def proxy(work: Path, upstreams: list[int]) -> Iterator[tuple[str, Path]]:
    """Debian's nginx with the swapped config (tests/nginx.py); yields its address
    (host:port) and its access log."""
    port = free_port()
    config = container_only_swapped(PROXY_CONF.read_text(), work, port, upstreams)
    log = work / "access.log"
    with nginx.started(work, config, port, stdout=log) as server:
        yield server.address, log


def ask(conn: http.client.HTTPConnection, method: str = "GET", path: str = "/",
        body: bytes | None = None) -> tuple[int, http.client.HTTPMessage, dict]:
    conn.request(method, path, body=body, headers={"Cookie": "session=one-visitor"})
    response = conn.getresponse()
    return response.status, response.headers, json.loads(response.read())


def retried(log: Path) -> list[list[str]]:
    """The replicas' statuses of each request the proxy passed on to a second replica, from
    its JSON access log."""
    time.sleep(0.1)  # the log line is written after the answer
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    return [line["upstream_status"].split(", ") for line in lines
            if "," in line["upstream_status"]]


@pytest.fixture(scope="module")
def replicas() -> Iterator[list[Replica]]:
    servers = [Replica("a"), Replica("b")]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def two_replicas(replicas, tmp_path_factory) -> Iterator[str]:
    with proxy(tmp_path_factory.mktemp("proxy"), [r.port for r in replicas]) as (address, _):
        yield address


def test_the_proxy_config_passes_nginx_t(tmp_path, replicas):
    """`nginx -t` on the config as tested (see container_only_swapped for what differs)."""
    command = nginx.argv(tmp_path)  # skips when nginx is missing
    conf = container_only_swapped(PROXY_CONF.read_text(), tmp_path, free_port(),
                                  [r.port for r in replicas])
    (tmp_path / "nginx.conf").write_text(conf)
    result = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_requests_alternate_between_replicas_without_stickiness(two_replicas):
    """The same visitor (one connection, one session cookie) is answered by each replica in
    turn, and so are new connections: round-robin, nothing pins a visitor to a replica."""
    conn = http.client.HTTPConnection(two_replicas, timeout=5)
    answered = [ask(conn, method)[2]["replica"] for method in ("GET", "POST") * 3]
    assert all(x != y for x, y in zip(answered, answered[1:], strict=False)), answered
    fresh = []
    for _ in range(4):
        one = http.client.HTTPConnection(two_replicas, timeout=5)
        fresh.append(ask(one)[2]["replica"])
        one.close()
    assert sorted(fresh) == ["a", "a", "b", "b"]
    conn.close()


def test_an_idle_keep_alive_connection_outlives_a_players_think_time(two_replicas):
    """A click after 3.5 s of thinking goes out on the same connection (issue 10's resets came
    from a 2 s keep-alive) and, as a POST that nginx cannot retry, still reaches a replica:
    the proxy let its idle replica connections go (1 s) before the replicas did (2 s)."""
    conn = http.client.HTTPConnection(two_replicas, timeout=5)
    assert ask(conn)[0] == 200
    first = conn.sock
    time.sleep(3.5)
    status, _, answer = ask(conn, "POST", "/_dash-update-component", b"{}")
    assert status == 200 and answer["bytes"] == 2
    assert conn.sock is first  # the same TCP connection: nobody closed it
    conn.close()


def test_an_upload_passes_and_a_larger_body_is_refused_as_json(two_replicas):
    from dashboard.settings import Settings

    limit = Settings().max_upload_bytes
    conn = http.client.HTTPConnection(two_replicas, timeout=10)
    status, _, answer = ask(conn, "POST", "/_dash-update-component", b"x" * limit)
    assert (status, answer["bytes"]) == (200, limit)
    conn.close()
    conn = http.client.HTTPConnection(two_replicas, timeout=10)
    status, headers, answer = ask(conn, "POST", "/_dash-update-component", b"x" * (17 << 20))
    assert (status, answer) == (413, {"error": "request too large"})
    assert headers["Content-Type"] == "application/json"
    conn.close()


def test_the_proxy_health_endpoint_and_forwarded_headers(two_replicas):
    conn = http.client.HTTPConnection(two_replicas, timeout=5)
    conn.request("GET", "/proxy/health")
    response = conn.getresponse()
    assert (response.status, json.loads(response.read())) == (200, {"status": "ok"})
    assert "nginx/" not in (response.headers["Server"] or "")  # no version banner
    assert ask(conn)[2]["forwarded_for"] == "127.0.0.1"
    conn.close()


def test_the_replicas_metrics_are_not_served_to_visitors(two_replicas):
    """Prometheus scrapes the replicas directly; through the published proxy /metrics is an
    unknown path (a JSON 404), while the dashboard's other paths pass."""
    conn = http.client.HTTPConnection(two_replicas, timeout=5)
    for path in ("/metrics", "/metrics?name=x"):
        status, headers, answer = ask(conn, "GET", path)
        assert (status, answer) == (404, {"error": "not found"}), path
        assert headers["Content-Type"] == "application/json"
    assert ask(conn, "GET", "/health")[0] == 200  # a replica answers other paths
    conn.close()


def test_a_replica_that_fails_is_retried_on_another(tmp_path):
    """A replica that refuses connections (gone): every request, POSTs included, is answered by
    the other, since none of them reached it. A replica that answers 503 (busy): a GET is
    retried on the other; a POST that reached it is not (a click must not count twice), and
    its 503 with Retry-After reaches the browser as it was. No replica: the proxy's own 503."""
    healthy, busy = Replica("a"), Replica("b")
    busy.busy = True
    try:
        with proxy(tmp_path / "gone", [healthy.port, free_port()]) as (address, log):
            conn = http.client.HTTPConnection(address, timeout=5)
            answers = [ask(conn, method) for method in ("POST", "GET") * 2]
            assert {(s, a["replica"]) for s, _, a in answers} == {(200, "a")}
            assert retried(log) == [["502", "200"]]  # refused (nginx logs 502), then a
        with proxy(tmp_path / "busy-get", [healthy.port, busy.port]) as (address, log):
            conn = http.client.HTTPConnection(address, timeout=5)
            gets = [ask(conn) for _ in range(4)]
            assert {(s, a["replica"]) for s, _, a in gets} == {(200, "a")}
            assert retried(log) == [["503", "200"]]  # b was asked, then a
        with proxy(tmp_path / "busy-post", [healthy.port, busy.port]) as (address, log):
            conn = http.client.HTTPConnection(address, timeout=5)
            posts = sorted((s, a["replica"], h["Retry-After"])
                           for s, h, a in (ask(conn, "POST") for _ in range(2)))
            assert posts == [(200, "a", None), (503, "b", "1")]
            assert retried(log) == []
        with proxy(tmp_path / "none", [free_port(), free_port()]) as (address, _):
            conn = http.client.HTTPConnection(address, timeout=5)
            status, headers, answer = ask(conn)
            assert status == 503 and headers["Retry-After"] == "2"
            assert answer == {"error": "the game is busy, try again in a moment"}
    finally:
        healthy.stop()
        busy.stop()
