"""Every Kubernetes manifest in deploy/kubernetes is valid: built-in kinds against the Kubernetes
API's own schemas (kubernetes-validate, strict: an unknown field fails), the operators' resources
against the CRD schemas vendored in deploy/kubernetes/crds (strict too). A kind with no schema
fails, so nothing unvalidated can be added. Kustomizations must name files that exist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
CRDS = ROOT / "crds"
KUBERNETES_VERSION = "1.33"


def _manifests() -> Iterator[tuple[str, int, dict[str, Any]]]:
    for path in sorted(ROOT.rglob("*.yaml")):
        if CRDS in path.parents:
            continue
        for index, doc in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8"))):
            if doc:
                yield str(path.relative_to(ROOT)), index, doc


def _strict(schema: Any) -> Any:
    """The CRD's structural schema with unknown fields refused, as the API server prunes them."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes")}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        if schema.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        return out
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            # metadata is the API server's, not the CRD's, to check
            schema.setdefault("properties", {})["metadata"] = {"type": "object"}
            schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


CRD_SCHEMAS = _crd_schemas()
MANIFESTS = list(_manifests())


def test_the_vendored_crds_are_there() -> None:
    kinds = {kind for _, kind in CRD_SCHEMAS}
    assert {"Cluster", "ScheduledBackup", "RabbitmqCluster", "Shovel", "ScaledObject"} <= kinds


@pytest.mark.parametrize(
    "where,doc",
    [(f"{p}#{i}", d) for p, i, d in MANIFESTS],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_manifest_is_valid(where: str, doc: dict[str, Any]) -> None:
    api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    if api.startswith("kustomize.config.k8s.io/"):
        folder = ROOT / where.split("#")[0]
        for entry in [*doc.get("resources", []), *(p["path"] for p in doc.get("patches", []))]:
            assert (folder.parent / entry).exists(), f"{where}: {entry} does not exist"
        return
    if (api, kind) in CRD_SCHEMAS:
        errors = sorted(
            jsonschema.Draft7Validator(CRD_SCHEMAS[(api, kind)]).iter_errors(doc),
            key=lambda e: list(e.path),
        )
        assert not errors, f"{where}: " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]
        )
        return
    if "patches" in where or where.endswith("-patch.yaml"):
        return
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        pytest.fail(
            f"{where}: no schema for {api} {kind}: vendor its CRD into deploy/kubernetes/crds"
        )
    except kubernetes_validate.ValidationError as error:
        pytest.fail(f"{where}: {error.message} at {'/'.join(map(str, error.path))}")


def test_a_wrong_field_is_caught() -> None:
    """The check itself can fail: a misspelt field in a Deployment and in a CNPG Cluster."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replica": 2, "selector": {}, "template": {}},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    cluster = {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "x"},
        "spec": {"instance": 3, "storage": {"size": "1Gi"}},
    }
    assert list(
        jsonschema.Draft7Validator(CRD_SCHEMAS[("postgresql.cnpg.io/v1", "Cluster")]).iter_errors(
            cluster
        )
    )
