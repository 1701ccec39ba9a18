"""docker-compose.yml: the services, ports, health checks, start order and volumes users rely on.

Docker cannot run here, so the file is checked as data, and every path it builds from exists.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_services_and_official_model_image(compose):
    services = compose["services"]
    assert {"model", "explainer", "image-server", "photo-pool", "dashboard"} <= set(services)
    assert "tensorflow/serving:" in services["model"]["image"]
    assert "--enable_model_warmup=true" in services["model"]["command"]


def test_only_the_dashboard_is_published(compose):
    """The back-ends stay on the compose network; the file shows developers how to publish
    them, on loopback only."""
    published = {name: s["ports"] for name, s in compose["services"].items() if "ports" in s}
    assert published == {"dashboard": ["8050:8050"]}
    text = (REPO / "docker-compose.yml").read_text()
    for ports in ('"127.0.0.1:8501:8501", "127.0.0.1:8500:8500"', '"127.0.0.1:5001:5001"',
                  '"127.0.0.1:8081:8081"'):
        assert f"    # ports: [{ports}]" in text


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
    for name in ("model", "explainer", "image-server", "dashboard", "postgres"):
        assert services[name]["healthcheck"]["test"][0] == "CMD"
    assert "/v1/models/car_classifier" in " ".join(services["model"]["healthcheck"]["test"])
    assert services["explainer"]["depends_on"] == {"model": {"condition": "service_healthy"}}
    assert services["image-server"]["depends_on"] == {
        "photo-pool": {"condition": "service_completed_successfully"}}
    assert services["dashboard"]["depends_on"] == {
        name: {"condition": "service_healthy"}
        for name in ("model", "explainer", "image-server", "postgres")}
    env = services["dashboard"]["environment"]
    assert env["DASHBOARD_MODEL_URL"] == "http://model:8501"
    assert env["DASHBOARD_EXPLAINER_URL"] == "http://explainer:5001"
    assert env["DASHBOARD_IMAGE_SERVER_URL"] == "http://image-server:8081"


def test_volumes_mount_the_model_and_the_photos(compose):
    services = compose["services"]
    assert "./model/export/car_classifier:/models/car_classifier:ro" in services["model"]["volumes"]
    assert any(v.endswith(":/data:ro") for v in services["photo-pool"]["volumes"])
    assert "photo-pool:/srv/pool:ro" in services["image-server"]["volumes"]
    assert "photo-pool" in compose["volumes"]
    assert (REPO / "model/export/car_classifier/1/saved_model.pb").is_file()


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
            if line.startswith("COPY "):
                for source in line.split()[1:-1]:
                    assert (REPO / build["context"] / source).exists(), (name, source)


def test_games_in_progress_live_in_a_volume(compose):
    """A recreated dashboard container keeps the games of the visitors at the stand."""
    dashboard = compose["services"]["dashboard"]
    store = dashboard["environment"]["DASHBOARD_STORE_DIR"]
    volume = next(v for v in dashboard["volumes"] if v.split(":")[1] == store)
    assert volume.split(":")[0] in compose["volumes"]
    dockerfile = (REPO / "dashboard" / "Dockerfile").read_text()
    assert f"chown nobody {store}" in dockerfile  # the image's user can write there


def test_statistics_go_to_a_healthy_postgresql(compose):
    services = compose["services"]
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    dashboard = services["dashboard"]
    assert dashboard["environment"]["DASHBOARD_DATABASE_URL"].startswith("postgresql://")
    assert "pg_isready" in postgres["healthcheck"]["test"]
