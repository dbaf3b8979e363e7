"""The layer rule, executable: import-linter's contracts hold, and they cover every door a domain app grows.

The contracts themselves live in pyproject.toml (`make lint` runs them in CI); these tests also catch a new door
that nobody added to them, and the string-level habits an import graph cannot see.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["type"]: contract for contract in CONFIG["contracts"]}
DOMAIN_APPS = ["statuspage", "oncall", "opsportal/incidents", "opsportal/changes"]
PROTECTED = CONTRACTS["protected"]["protected_modules"]
# What only a door may speak: HTTP responses, rendering, the API framework, sockets, htmx.
DOOR_MODULES = ("rest_framework", "channels", "drf_spectacular", "django_htmx", "django.views")
DOOR_NAMES = {"django.http": {"HttpResponse", "JsonResponse", "StreamingHttpResponse", "FileResponse"}}
DOOR_NAMES["django.shortcuts"] = {"render", "redirect"}


def _modules(package_dir: str):
    for path in sorted((ROOT / package_dir).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"), path


def _in_door(module: str) -> bool:
    return any(module == door or module.startswith(door + ".") for door in PROTECTED)


def test_layers_import_contracts_hold():
    # In its own process: import-linter inspects classes, and the test process has zope.interface's loaded.
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_every_api_package_of_a_domain_app_is_a_protected_door():
    for app in DOMAIN_APPS:
        if (ROOT / app / "api").is_dir():
            assert f"{app.replace('/', '.')}.api" in PROTECTED, f"{app}/api is a door: add it to the contract"


def test_layers_every_protected_door_is_independent_of_the_others():
    assert set(PROTECTED) <= set(CONTRACTS["independence"]["modules"])


def test_layers_domain_modules_speak_no_http_outside_their_doors():
    """A view, serializer or consumer written inside a domain app (outside its api/ or public/) fails here."""
    offenders = []
    for app in DOMAIN_APPS:
        for module, path in _modules(app):
            if _in_door(module):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [(alias.name, None) for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [(node.module, alias.name) for alias in node.names]
                else:
                    continue
                for source, name in names:
                    if source.startswith(DOOR_MODULES) or name in DOOR_NAMES.get(source, ()):
                        offenders.append(f"{module}: {source}.{name or ''}")
    assert offenders == []


def _source_files():
    for package in ("opsportal", "statuspage", "oncall"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_permissions_are_named_only_in_the_role_table():
    """Checks name `opsportal.core.roles.Permission` members; a "core.respond" string anywhere else is a
    second enumeration waiting to drift."""
    literal = re.compile(r"""["']core\.(access_portal|respond|command_incidents|administer)["']""")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _source_files()
        if path.relative_to(ROOT).as_posix() != "opsportal/core/roles.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []


def test_status_rules_live_only_in_the_lifecycle_tables():
    """Comparing a status with a literal ("closed", "declined", …) outside lifecycle.py restates a rule the
    table owns; the two drift apart (Grafana OnCall's two APIs did)."""
    compare = re.compile(r"""(?<!for )\bstatus\s*(==|!=|\bin\b|\bnot in\b)\s*[\(\[{]?\s*["']""")
    query = re.compile(r"""(filter|exclude)\([^)]*status(__in)?=\s*[\(\[{]?\s*["']""")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _source_files()
        if path.name != "lifecycle.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if compare.search(line) or query.search(line)
    ]
    assert found == []
