"""deploy/k8s/: every object valid against Kubernetes' own OpenAPI schemas, offline and
strict (kubernetes-validate ships them; an unknown or misspelt field fails), and the manifests
agree with the compose file and the services: the TF Serving tag and flags, the health
endpoints as probes, the dashboard's HorizontalPodAutoscaler, state in StatefulSets, the
Ingress in front of the dashboard with no session affinity. No cluster applies them here."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

REPO = Path(__file__).resolve().parent.parent
K8S = REPO / "deploy" / "k8s"
KUBERNETES = "1.33.0"


def objects() -> list[dict]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def by_kind(kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects() if o["kind"] == kind}


def containers(name: str) -> dict[str, dict]:
    workload = {**by_kind("Deployment"), **by_kind("StatefulSet")}[name]
    return {c["name"]: c for c in workload["spec"]["template"]["spec"]["containers"]}


def test_every_object_passes_the_schema_check_strictly():
    assert len(objects()) >= 15
    for obj in objects():
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)  # raises on any error


def test_the_schema_check_can_fail():
    bad = {**by_kind("Deployment")["dashboard"]}
    bad["spec"] = {**bad["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES, strict=True)


def test_the_model_is_the_compose_tf_serving_with_its_flags():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["model"]
    env = dict(line.split("=", 1) for line in (REPO / ".env").read_text().splitlines()
               if line and not line.startswith("#"))
    [tf] = containers("model").values()
    assert tf["image"] == f"tensorflow/serving:{env['TF_SERVING_VERSION']}"
    assert tf["args"] == compose["command"]
    config = by_kind("ConfigMap")["tf-serving-config"]["data"]
    for name, text in config.items():
        assert text == (REPO / "model" / "serving_config" / name).read_text(), name
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert tf[probe]["httpGet"]["path"] == "/v1/models/car_classifier"


def test_probes_use_the_health_endpoints():
    for name, port in (("dashboard", 8050), ("explainer", 5001), ("image-server", 8081)):
        [c] = containers(name).values()
        assert c["readinessProbe"]["httpGet"]["path"] == "/health", name
        assert "livenessProbe" in c, name
        assert c["ports"][0]["containerPort"] == port, name
    [redis] = containers("redis").values()
    assert "redis-cli ping" in " ".join(redis["readinessProbe"]["exec"]["command"])
    [postgres] = containers("postgres").values()
    assert postgres["readinessProbe"]["exec"]["command"][0] == "pg_isready"


def test_the_dashboard_scales_and_state_lives_in_statefulsets():
    hpa = by_kind("HorizontalPodAutoscaler")["dashboard"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "dashboard"}
    assert hpa["spec"]["minReplicas"] >= 2
    assert set(by_kind("StatefulSet")) == {"redis", "postgres"}
    [dashboard] = containers("dashboard").values()
    env = {e["name"]: e for e in dashboard["env"]}
    assert env["DASHBOARD_STORE_URL"]["value"] == "redis://redis:6379/0"
    assert "secretKeyRef" in env["DASHBOARD_DATABASE_URL"]["valueFrom"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    assert env["DASHBOARD_STORE_MAX_BYTES"]["value"] == compose["dashboard"]["environment"][
        "DASHBOARD_STORE_MAX_BYTES"]
    [redis] = containers("redis").values()
    assert redis["args"] == compose["redis"]["command"]


def test_the_ingress_is_the_proxy_without_affinity():
    [ingress] = by_kind("Ingress").values()
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "dashboard", "port": {"name": "http"}}
    assert not any("affinity" in key for key in ingress["metadata"]["annotations"])
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] \
        == "16m"
    assert by_kind("Service")["dashboard"]["spec"]["sessionAffinity"] == "None"
