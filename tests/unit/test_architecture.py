"""The import contracts of pyproject.toml ([tool.importlinter]) hold for the code, and they would fail on a wrong
import: the same contracts are run over a small tree whose kernel imports the service."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(LINT.parent), "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT), "--no-logo", "--no-cache", str(config)], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_the_code_keeps_every_import_contract():
    result = _lint(ROOT / "pyproject.toml", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _tree(tmp_path: Path, modules: dict[str, str]) -> None:
    """The three packages, the HTTP plumbing and two domains, empty, with ``modules`` (name: source) on top."""
    base = dict.fromkeys(
        ("service", "service.http", "service.petitions", "service.incidents", "analytics", "tenants"), ""
    )
    for name, source in (base | modules).items():
        path = tmp_path.joinpath(*name.split(".")) / "__init__.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def _contracts(tmp_path: Path) -> Path:
    """The project's own contracts, without external packages and ignored imports (the little tree has none)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[importlinter]", "root_packages =", *(f"    {p}" for p in config["root_packages"])]
    for contract in config["contracts"]:
        lines.append(f"[importlinter:contract:{contract['id']}]")
        for key, value in contract.items():
            if key in ("id", "ignore_imports"):
                continue
            if isinstance(value, list):
                value = [v for v in value if v != "litestar"]
                lines.append(f"{key} =" + "".join(f"\n    {v}" for v in value))
            else:
                lines.append(f"{key} = {value}")
    path = tmp_path / ".importlinter"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_kernel_module_that_imports_the_service_breaks_the_layers(tmp_path):
    _tree(tmp_path, {"service.incidents": "import service.petitions\n", "tenants.wrong": "import service.petitions\n"})
    result = _lint(_contracts(tmp_path), tmp_path)
    assert result.returncode == 1, result.stdout
    assert "service -> analytics -> tenants, never the other way BROKEN" in result.stdout
    assert "tenants.wrong -> service.petitions" in result.stdout
    assert "incidents may use petitions, never the reverse KEPT" in result.stdout


def test_petitions_importing_incidents_breaks_the_domain_contract(tmp_path):
    _tree(tmp_path, {"service.petitions.services": "import service.incidents\n"})
    result = _lint(_contracts(tmp_path), tmp_path)
    assert result.returncode == 1, result.stdout
    assert "incidents may use petitions, never the reverse BROKEN" in result.stdout


def test_a_domain_service_that_imports_the_http_plumbing_breaks_its_contract(tmp_path):
    _tree(tmp_path, {"service.http": "", "service.petitions.services": "import service.http\n"})
    result = _lint(_contracts(tmp_path), tmp_path)
    assert result.returncode == 1, result.stdout
    assert "the domains' rules know nothing of HTTP: no litestar, no service.http BROKEN" in result.stdout
    assert "service.petitions.services -> service.http" in result.stdout
