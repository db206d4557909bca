"""Settings: file + environment precedence, clear errors naming file and key, the example file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from newswatch.errors import ConfigError
from newswatch.settings import FeedConfig, Settings, load_settings, resolve_config_path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "newswatch.example.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newswatch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file_run_embedded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    settings = load_settings(None)
    assert settings.bus.backend == "embedded"
    assert settings.index.backend == "embedded"
    assert settings.config_file is None
    assert settings.index_path == settings.bus_path == Path("var/bus.db")


def test_file_values_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "data_dir: /srv/nw\nbus:\n  embedded:\n    partitions: 8\n")
    settings = load_settings(path)
    assert settings.bus.embedded.partitions == 8
    assert settings.bus_path == Path("/srv/nw/bus.db")
    assert settings.config_file == path


def test_environment_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "bus:\n  backend: embedded\n  embedded:\n    partitions: 8\n")
    monkeypatch.setenv("NEWSWATCH_BUS__BACKEND", "kafka")
    monkeypatch.setenv("NEWSWATCH_BUS__KAFKA__BOOTSTRAP_SERVERS", "broker:9092")
    settings = load_settings(path)
    assert settings.bus.backend == "kafka"
    assert settings.bus.kafka.bootstrap_servers == "broker:9092"
    assert settings.bus.embedded.partitions == 8  # untouched siblings survive the override


def test_config_path_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path(None, {}) is None
    (tmp_path / "newswatch.yaml").write_text("{}")
    assert resolve_config_path(None, {}) == Path("newswatch.yaml")
    assert resolve_config_path(None, {"NEWSWATCH_CONFIG": "/etc/nw.yaml"}) == Path("/etc/nw.yaml")
    assert resolve_config_path("x.yaml", {"NEWSWATCH_CONFIG": "/etc/nw.yaml"}) == Path("x.yaml")


def test_wrong_type_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "fetcher:\n  http:\n    max_bytes: lots\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert "fetcher.http.max_bytes" in message
    assert "'lots'" in message


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "fetcher:\n  poll_every: 5\n")
    with pytest.raises(ConfigError, match=r"fetcher\.poll_every: unknown key"):
        load_settings(path)


def test_bad_feed_is_named_by_position(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: https://a.example/feed\n  - url: ftp://b.example/x\n")
    with pytest.raises(ConfigError, match=r"feeds\.1\.url: Value error, must be an http"):
        load_settings(path)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bus:\n  backend: [embedded\n")
    with pytest.raises(ConfigError, match=r"line \d+.*not valid YAML"):
        load_settings(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "absent.yaml")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_settings(write(tmp_path, "- a\n- b\n"))


def test_country_codes_are_normalised() -> None:
    assert FeedConfig(url="https://x.example/f", country="eg").country == "EG"
    with pytest.raises(ValueError):
        FeedConfig(url="https://x.example/f", country="Egypt")


def test_production_refuses_default_secrets(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "environment: production\n"))
    with pytest.raises(ConfigError, match="secret_key"):
        settings.check_secrets()


def test_example_config_is_valid() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.feeds, "the example lists real feeds for `make run`"


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        if name == "config_file":
            continue
        out.append(prefix + name)
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_keys(ann, f"{prefix}{name}."))
    return out


def _has(data: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def test_example_config_documents_every_key() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    missing = [key for key in _keys(Settings) if not _has(data, key)]
    missing += [f"feeds[0].{key}" for key in FeedConfig.model_fields if key not in data["feeds"][0]]
    assert not missing, f"deploy/newswatch.example.yaml lacks: {', '.join(missing)}"


def test_example_subscriptions_are_valid_for_the_alerter() -> None:
    from services.alerter.subscriptions import Subscription

    settings = load_settings(EXAMPLE)
    assert settings.subscriptions
    for data in settings.subscriptions:
        subscription = Subscription.model_validate(data)
        assert subscription.channels.emails or subscription.channels.webhooks
