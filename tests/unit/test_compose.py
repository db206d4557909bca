"""The docker compose deployment, checked without a Docker engine.

``deploy/docker-compose.yml`` is interpolated the way Compose does it (with the values of
``deploy/.env.example``), validated against the Compose specification's JSON Schema (vendored
by check-jsonschema), and held to the deployment's own rules: pinned image tags, variables and
volumes all defined, scalable services free of fixed names and host ports, a healthcheck on every
long-running service, and environment that newswatch's settings actually accept. The Dockerfile
is checked for a non-root user, the lock file and a healthcheck.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from newswatch.settings import load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
OVERRIDE = DEPLOY / "docker-compose.override.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCKERFILE = DEPLOY / "Dockerfile"

#: The newswatch roles: none may carry a container_name or a host port (``--scale`` must work).
NEWSWATCH_SERVICES = ("fetcher", "extractor", "indexer", "alerter")
#: Placeholders for required secrets left empty in .env.example (the API keys are a JSON list).
SECRET = "s3cret-for-tests-0123456789abcdef"
PLACEHOLDERS = {"NEWSWATCH_API_KEYS": '["key-for-tests"]'}

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?"
    r"(?P<arg>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (Compose's .env format, enough of it for this file)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
        values[key.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str], names: set[str]) -> str:
    """Substitute ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``, ``$VAR`` and ``$$`` in one
    string as Compose does, adding the names referenced to ``names``. A required variable that
    is empty gets a placeholder (the operator must set it; the test only needs a value)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("bare")
        names.add(name)
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if empty else str(value)
        if op in (":?", "?"):
            return PLACEHOLDERS.get(name, SECRET) if empty else str(value)
        if op in (":+", "+"):
            return "" if empty else arg
        return "" if value is None else value

    return _VARIABLE.sub(substitute, text)


def interpolate_tree(node: Any, env: dict[str, str], names: set[str]) -> Any:
    """Compose interpolates the parsed document's strings (so a value stays one string even
    when it looks like YAML), keys included."""
    if isinstance(node, str):
        return interpolate(node, env, names)
    if isinstance(node, dict):
        return {
            interpolate(str(k), env, names): interpolate_tree(v, env, names)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [interpolate_tree(item, env, names) for item in node]
    return node


def load_compose(path: Path = COMPOSE) -> tuple[dict[str, Any], set[str]]:
    names: set[str] = set()
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return interpolate_tree(raw, read_env_file(ENV_EXAMPLE), names), names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()[0]


def compose_schema() -> dict[str, Any]:
    """The Compose specification's schema as vendored by check-jsonschema, located without
    importing the package (its CLI module does not import with every click version)."""
    spec = importlib.util.find_spec("check_jsonschema")
    if spec is None or spec.origin is None:
        pytest.skip("check-jsonschema (which vendors the compose-spec schema) is not installed")
    path = Path(spec.origin).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text(encoding="utf-8"))


# -- the specification --------------------------------------------------------------------------


@pytest.mark.parametrize("path", [COMPOSE, OVERRIDE], ids=["compose", "override"])
def test_valid_against_the_compose_specification(path: Path) -> None:
    document, _ = load_compose(path)
    validator = jsonschema.Draft202012Validator(compose_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors
    )


def test_the_schema_catches_mistakes() -> None:
    """The validation above can fail: a misspelt key is rejected."""
    validator = jsonschema.Draft202012Validator(compose_schema())
    bad = {"services": {"x": {"image": "a:1.0", "restart_policy": "always"}}}
    assert list(validator.iter_errors(bad))


# -- the deployment's rules ---------------------------------------------------------------------


def test_every_variable_is_documented_in_env_example() -> None:
    defined = read_env_file(ENV_EXAMPLE)
    for path in (COMPOSE, OVERRIDE):
        _, names = load_compose(path)
        missing = sorted(names - set(defined))
        assert not missing, f"{path.name} uses variables missing from .env.example: {missing}"


def test_env_example_has_no_unused_variables() -> None:
    used = load_compose(COMPOSE)[1] | load_compose(OVERRIDE)[1]
    unused = sorted(set(read_env_file(ENV_EXAMPLE)) - used)
    assert not unused, f".env.example documents variables nothing uses: {unused}"


def test_required_secrets_ship_empty() -> None:
    """Nobody should run with a password copied from the example."""
    text = COMPOSE.read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert {"ELASTIC_PASSWORD", "KIBANA_PASSWORD", "NEWSWATCH_SECRET_KEY"} <= required
    defined = read_env_file(ENV_EXAMPLE)
    assert all(defined[name] == "" for name in required), "required secrets must ship empty"


def test_every_image_tag_is_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image")
        assert image, f"{name}: no image"
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image} floats"
        assert re.fullmatch(r"v?\d+\.\d+(\.\d+)?([-.][\w.]+)?", tag), f"{name}: {image} not pinned"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used: set[str] = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            if isinstance(volume, str):
                source = volume.split(":")[0] if ":" in volume else ""
            else:
                source = volume.get("source", "") if volume.get("type") == "volume" else ""
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name}: volume {source} is not declared"
                used.add(source)
    assert declared == used, f"declared but unused volumes: {sorted(declared - used)}"


def test_config_files_and_build_context_exist(compose: dict[str, Any]) -> None:
    for name, config in compose.get("configs", {}).items():
        assert (DEPLOY / config["file"]).is_file(), f"config {name}: {config['file']} missing"
    for name in NEWSWATCH_SERVICES:
        build = compose["services"][name]["build"]
        context = (DEPLOY / build["context"]).resolve()
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE, name


def test_scalable_services_have_no_fixed_names_or_host_ports(compose: dict[str, Any]) -> None:
    for name in NEWSWATCH_SERVICES:
        service = compose["services"][name]
        assert "container_name" not in service, f"{name}: container_name prevents --scale"
        assert not service.get("ports"), f"{name}: a host port prevents --scale"


def _one_shot(service: dict[str, Any]) -> bool:
    return str(service.get("restart", "no")) == "no"


def test_every_service_has_a_healthcheck_or_is_a_one_shot(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck") or {}
        healthy = bool(check.get("test")) and not check.get("disable")
        assert healthy or _one_shot(service), f"{name}: long-running without a healthcheck"
        if not _one_shot(service):
            assert service.get("restart") in ("always", "unless-stopped", "on-failure")
            limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
            assert limits.get("memory") and limits.get("cpus"), f"{name}: no resource limits"


def test_dependencies_wait_for_health_or_completion(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert services[target].get("healthcheck", {}).get("test"), (name, target)
            elif condition == "service_completed_successfully":
                assert _one_shot(services[target]), (name, target)
            else:
                assert condition == "service_started", (name, target, condition)
    for name in NEWSWATCH_SERVICES:
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["indexer"]["depends_on"]["elasticsearch"]["condition"] == "service_healthy"


def test_the_services_run_the_distributed_runtime(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every NEWSWATCH_ variable a service gets is one the settings accept, and together they
    select Kafka and Elasticsearch."""
    for name in (*NEWSWATCH_SERVICES, "kibana-setup"):
        service = compose["services"][name]
        environment = service["environment"]
        assert isinstance(environment, dict), f"{name}: use the mapping form"
        with monkeypatch.context() as patch:
            for key, value in environment.items():
                if key.startswith("NEWSWATCH_") and key != "NEWSWATCH_CONFIG":
                    patch.setenv(key, str(value))
            settings = load_settings(DEPLOY / "newswatch.example.yaml")
        assert settings.bus.backend == "kafka", name
        assert settings.bus.kafka.bootstrap_servers == "kafka:9092"
        assert settings.index.backend == "elasticsearch"
        assert settings.index.elasticsearch.url == "http://elasticsearch:9200"
        assert settings.alerter.smtp.host == "mailpit"
        assert settings.environment == "production"
        settings.check_secrets()  # production rules hold with the wired secrets
    assert compose["services"]["extractor"]["command"] == ["extractor"]


# -- the image ----------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined: list[str] = []
    buffer = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        joined.append(buffer + line)
        buffer = ""
    out = []
    for line in joined:
        instruction, _, rest = line.partition(" ")
        out.append((instruction.upper(), rest.strip()))
    return out


def test_dockerfile_runs_as_an_unprivileged_user() -> None:
    instructions = dockerfile_instructions()
    stages = [i for i, (op, _) in enumerate(instructions) if op == "FROM"]
    assert len(stages) >= 2, "multi-stage: build, then a clean runtime image"
    final = instructions[stages[-1] :]
    users = [args for op, args in final if op == "USER"]
    assert users, "the runtime stage sets no USER"
    assert users[-1].split(":")[0] not in ("root", "0"), users[-1]


def test_dockerfile_installs_pinned_dependencies_from_the_lock() -> None:
    instructions = dockerfile_instructions()
    runs = " ".join(args for op, args in instructions if op == "RUN")
    copies = " ".join(args for op, args in instructions if op == "COPY")
    assert "requirements.lock" in copies
    assert re.search(r"pip install [^&]*--constraint requirements\.lock", runs)
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for op, a in instructions if op == "ARG"}
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base), base


def test_dockerfile_has_a_healthcheck_and_the_cli_entrypoint() -> None:
    instructions = dict(dockerfile_instructions())
    assert "/healthz" in instructions["HEALTHCHECK"]
    assert json.loads(instructions["ENTRYPOINT"]) == ["newswatch"]


def test_dockerignore_keeps_state_and_secrets_out() -> None:
    ignored = (DEPLOY.parent / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "var", "*.db", ".env", "tests"):
        assert entry in ignored, entry


def test_setup_scripts_are_valid_shell(compose: dict[str, Any]) -> None:
    scripts = {
        name: service["command"][2]
        for name, service in compose["services"].items()
        if isinstance(service.get("command"), list) and service["command"][:2] == ["bash", "-c"]
    }
    assert "es-setup" in scripts
    for name, script in scripts.items():
        result = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert "$$" not in script, f"{name}: an unescaped $$ survived interpolation"
