"""The house rules of the layout, read from the source with `ast` (nothing is imported):

- a service's domain.py and its other pure modules (PURE_MODULES) import only the kernel, the
  contracts, the standard library and that service's own pure modules;
- no service imports another service (services.shared and services.kernel are for all);
- the kernel imports no framework, and no part of services other than itself.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
COMMON = ("shared", "kernel")
SERVICE_NAMES = sorted(
    p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists() and p.name not in COMMON
)
# The kernel's only third-party imports: holiday data, YAML parsing and the rule set's
# validation (pydantic, a library, not a framework; the contracts are built on it too).
KERNEL_THIRD_PARTY = frozenset({"holidays", "yaml", "pydantic"})
# Pure modules besides each service's domain.py (rules split out of a domain.py that grew).
PURE_MODULES: dict[str, tuple[str, ...]] = {
    "activity": ("problems", "evidence_rules", "gate", "skp"),
}


def pure_modules(service: str) -> list[str]:
    return ["domain", *PURE_MODULES.get(service, ())]


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `path`, wherever it is written."""
    package = ".".join(path.relative_to(SERVICES.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            if base == "__future__":
                continue
            if base == "services":  # `from services import tpp` names the package tpp
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}"
            else:
                yield node.lineno, base


def top(module: str) -> str:
    return module.split(".")[0]


def service_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "services" and len(parts) > 1 else None


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_the_layout_is_what_the_tests_read() -> None:
    assert {"attendance", "activity", "approval", "tpp", "notifier", "siasn"} <= set(SERVICE_NAMES)
    assert (SERVICES / "kernel" / "ruleset.py").exists()


def test_the_pure_modules_listed_exist() -> None:
    missing = [
        f"{service}/{name}.py"
        for service, names in PURE_MODULES.items()
        for name in names
        if not (SERVICES / service / f"{name}.py").exists()
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("service", "name"),
    [(service, name) for service in SERVICE_NAMES for name in pure_modules(service)],
)
def test_pure_modules_import_only_kernel_contracts_and_stdlib(service: str, name: str) -> None:
    own = {f"services.{service}.{pure}" for pure in pure_modules(service)}
    wrong = [
        f"{line}: {module}"
        for line, module in imports_of(SERVICES / service / f"{name}.py")
        if not (
            top(module) in sys.stdlib_module_names
            or top(module) == "contracts"
            or module == "services.kernel"
            or module.startswith("services.kernel.")
            or module in own
        )
    ]
    assert wrong == [], f"services/{service}/{name}.py imports {wrong}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_no_service_imports_another(service: str) -> None:
    wrong = [
        f"{path.relative_to(SERVICES)}:{line}: {module}"
        for path in python_files(SERVICES / service)
        for line, module in imports_of(path)
        if service_of(module) not in (None, service, *COMMON)
    ]
    assert wrong == []


def test_shared_imports_no_service() -> None:
    wrong = [
        f"{path.relative_to(SERVICES)}:{line}: {module}"
        for path in python_files(SERVICES / "shared")
        for line, module in imports_of(path)
        if service_of(module) not in (None, *COMMON)
    ]
    assert wrong == []


def test_kernel_imports_no_framework() -> None:
    wrong = [
        f"{path.relative_to(SERVICES)}:{line}: {module}"
        for path in python_files(SERVICES / "kernel")
        for line, module in imports_of(path)
        if not (
            top(module) in sys.stdlib_module_names
            or top(module) in KERNEL_THIRD_PARTY
            or module == "services.kernel"
            or module.startswith("services.kernel.")
        )
    ]
    assert wrong == []
