"""Configuration: one YAML file plus ``NEWSWATCH_…`` environment overrides, validated once.

Precedence, highest first: environment (``NEWSWATCH_BUS__BACKEND=kafka``; nested keys joined by
``__``), the YAML file, the defaults below. The file is the one given with ``--config``, else
``$NEWSWATCH_CONFIG``, else ``./newswatch.yaml`` when it exists; with none, the defaults run the
embedded runtime under ``./var``. ``deploy/newswatch.example.yaml`` documents every key.

Library code never reads ``os.environ``: it receives a ``Settings`` (or one of its sections).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from newswatch.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "FeedConfig",
    "Settings",
    "load_settings",
    "resolve_config_path",
]

DEFAULT_CONFIG_FILE = "newswatch.yaml"
CONFIG_ENV = "NEWSWATCH_CONFIG"


class Section(BaseModel):
    """Base of every settings section: unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LogSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: ``auto``: readable text on a terminal, JSON lines otherwise.
    format: Literal["auto", "text", "json"] = "auto"


class EmbeddedBusSettings(Section):
    #: SQLite file of the log (topics, offsets); relative paths are under ``data_dir``.
    path: Path = Path("bus.db")
    partitions: int = Field(default=4, ge=1, le=256)
    #: Messages older than this are deleted by retention (0 keeps them forever).
    retention_hours: float = Field(default=168.0, ge=0)
    #: A topic larger than this loses its oldest messages (0 = no size limit).
    retention_mb: float = Field(default=1024.0, ge=0)
    #: A member that has not polled for this long is considered gone; its partitions move.
    session_timeout_s: float = Field(default=10.0, gt=0)


class KafkaSettings(Section):
    bootstrap_servers: str = "localhost:9092"
    client_id: str = "newswatch"
    partitions: int = Field(default=6, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    retention_hours: float = Field(default=168.0, ge=0)
    deadletter_retention_hours: float = Field(default=24.0 * 90, ge=0)
    compression: Literal["gzip", "snappy", "lz4", "zstd", "none"] = "gzip"
    max_poll_interval_ms: int = Field(default=300_000, ge=1000)
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    #: How long clients keep retrying (with backoff) a broker that cannot be reached at start-up.
    connect_timeout_s: float = Field(default=120.0, gt=0)
    #: How long ``flush`` waits for the broker to acknowledge everything published.
    flush_timeout_s: float = Field(default=60.0, gt=0)
    #: Producer batching delay: a few ms of latency buys fewer, larger requests.
    linger_ms: int = Field(default=5, ge=0)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None


class BusSettings(Section):
    backend: Literal["embedded", "kafka"] = "embedded"
    embedded: EmbeddedBusSettings = EmbeddedBusSettings()
    kafka: KafkaSettings = KafkaSettings()


class TopicNames(Section):
    """Physical topic names (a prefix per deployment is a common need)."""

    discovered: str = "news.discovered"
    articles: str = "news.articles"
    alerts: str = "news.alerts"
    deadletter: str = "news.deadletter"
    subscriptions: str = "news.subscriptions"


class EmbeddedIndexSettings(Section):
    #: SQLite file of the FTS5 index; by default the bus file, so the embedded indexer can write
    #: documents and offsets in one transaction (exactly-once).
    path: Path | None = None


class ElasticsearchSettings(Section):
    url: str = "http://localhost:9200"
    username: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    verify_certs: bool = True
    ca_certs: Path | None = None
    index_prefix: str = "newswatch"
    shards: int = Field(default=1, ge=1)
    replicas: int = Field(default=0, ge=0)
    request_timeout_s: float = Field(default=30.0, gt=0)
    #: Send elasticsearch-py's versioned media type (``application/vnd.elasticsearch+json;
    #: compatible-with=9``). ``false`` sends plain ``application/json``, which OpenSearch and
    #: other Elasticsearch-compatible servers (osmem-server in the tests) need.
    compat_headers: bool = True


class IndexSettings(Section):
    backend: Literal["embedded", "elasticsearch"] = "embedded"
    embedded: EmbeddedIndexSettings = EmbeddedIndexSettings()
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()


class HttpClientSettings(Section):
    """How newswatch talks to news sites (shared by fetcher and extractor)."""

    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
    #: Shown in the User-Agent so site owners can reach the operator.
    contact_url: str | None = None
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=20.0, gt=0)
    #: Wall-clock limit for one whole response (a server that trickles bytes forever).
    total_timeout_s: float = Field(default=60.0, gt=0)
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(default=5, ge=0)
    concurrency: int = Field(default=32, ge=1)
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_delay_ms: int = Field(default=250, ge=0)


class FetcherSettings(Section):
    #: SQLite file of feed state (ETags, seen items, health); relative to ``data_dir``.
    state_path: Path = Path("fetcher.db")
    default_interval_s: float = Field(default=900.0, gt=0)
    min_interval_s: float = Field(default=120.0, gt=0)
    max_interval_s: float = Field(default=6 * 3600.0, gt=0)
    jitter: float = Field(default=0.1, ge=0, le=1)
    max_backoff_s: float = Field(default=24 * 3600.0, gt=0)
    #: After this many consecutive failures a feed is polled at the maximum backoff.
    failure_threshold: int = Field(default=5, ge=1)
    seen_ttl_days: float = Field(default=30.0, gt=0)
    #: Items dated earlier than this many days ago are not published (0 = no age limit). Keep it
    #: at or below ``seen_ttl_days`` so an expired seen-key cannot bring an old item back.
    max_item_age_days: float = Field(default=30.0, ge=0)
    max_items_per_feed: int = Field(default=200, ge=1)
    #: Idle connections kept for reuse (feeds of one site polled close together share one).
    keepalive_connections: int = Field(default=8, ge=0)
    #: Run as shard ``shard_index`` of ``shard_count`` (feeds split by hash of their URL).
    shard_index: int = Field(default=0, ge=0)
    shard_count: int = Field(default=1, ge=1)
    http: HttpClientSettings = HttpClientSettings(max_bytes=10 * 1024 * 1024)


class DedupeSettings(Section):
    enabled: bool = True
    #: Estimated Jaccard similarity of 5-word shingles at which an article is a copy. Measured:
    #: a wire story republished with a new headline and intro scores 0.5-0.7 on short stories,
    #: unrelated stories (even on one event) stay below 0.1.
    threshold: float = Field(default=0.5, gt=0, le=1)
    num_perm: int = Field(default=128, ge=16)
    ttl_days: float = Field(default=14.0, gt=0)
    max_entries: int = Field(default=200_000, ge=100)


class ExtractorSettings(Section):
    tagging: bool = True
    concurrency: int = Field(default=8, ge=1)
    batch_size: int = Field(default=32, ge=1)
    retries: int = Field(default=3, ge=0)
    retry_backoff_s: float = Field(default=2.0, ge=0)
    #: Pages yielding fewer words are published with ``extraction_status: no_text``.
    min_words: int = Field(default=20, ge=0)
    #: Worker processes running the tagger beside extraction (0 = tag in the service's thread).
    tagging_workers: int = Field(default=1, ge=0)
    #: A document the tagger has not finished after this long gets ``tagging_error``.
    tagging_timeout_s: float = Field(default=60.0, gt=0)
    #: SQLite file of the near-duplicate index; relative to ``data_dir``.
    state_path: Path = Path("extractor.db")
    dedupe: DedupeSettings = DedupeSettings()
    http: HttpClientSettings = HttpClientSettings()


class IndexerSettings(Section):
    batch_size: int = Field(default=500, ge=1)
    batch_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    flush_interval_s: float = Field(default=1.0, gt=0)
    index_alerts: bool = True
    #: Where ``newswatch kibana-setup`` imports the saved objects, as whom (default: the
    #: credentials of ``index.elasticsearch``), into which Kibana space (default: the default).
    kibana_url: str = "http://localhost:5601"
    kibana_username: str | None = None
    kibana_password: SecretStr | None = None
    kibana_space: str | None = None


class SmtpSettings(Section):
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "newswatch <alerts@localhost>"
    timeout_s: float = Field(default=30.0, gt=0)
    #: Attempts per email before it is dead-lettered (backoff as for webhooks).
    max_attempts: int = Field(default=5, ge=1)


class WebhookSettings(Section):
    timeout_s: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=300.0, ge=0)
    #: Allow webhook URLs that resolve to private/loopback/link-local addresses (tests, demo).
    allow_private: bool = False


class ApiSettings(Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8088, ge=0, le=65535)
    api_keys: list[SecretStr] = Field(default_factory=list)
    #: Base URL users reach the API at (for unsubscribe links in emails).
    public_url: str = "http://127.0.0.1:8088"


class FaustSettings(Section):
    """The faust-streaming alerter (``alerter.engine``; distributed runtime only)."""

    #: The faust app id: its consumer group and the prefix of its internal topics.
    app_id: str = "newswatch-alerter"
    #: Where faust keeps table state between changelog reads (``memory://``; ``rocksdb://``
    #: needs faust-streaming[rocksdb]). Tables are rebuilt from their changelog topics.
    store: str = "memory://"
    #: Spike windows are counted in buckets of this many seconds (a window's edges are exact
    #: to one bucket).
    spike_bucket_s: int = Field(default=60, ge=1, le=3600)
    #: Level of faust's, mode's and aiokafka's own loggers (they narrate every start-up step
    #: at INFO); DEBUG in ``log.level`` shows them all.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"


class AlerterSettings(Section):
    #: ``auto``: the faust-streaming app on the Kafka bus, the plain consumer on the embedded
    #: bus. ``plain`` keeps the plain consumer on Kafka too (one replica); ``faust`` needs Kafka.
    engine: Literal["auto", "faust", "plain"] = "auto"
    faust: FaustSettings = FaustSettings()
    #: SQLite file of subscriptions, dedupe and windows (embedded runtime); relative to data_dir.
    state_path: Path = Path("alerter.db")
    #: Signs unsubscribe tokens. Must be changed outside development.
    secret_key: SecretStr = SecretStr("change-me")
    smtp: SmtpSettings = SmtpSettings()
    webhook: WebhookSettings = WebhookSettings()
    api: ApiSettings = ApiSettings()
    batch_size: int = Field(default=100, ge=1)
    #: Deliveries sent at once (threads), and at most this many to one webhook host or address.
    delivery_concurrency: int = Field(default=8, ge=1)
    per_target_concurrency: int = Field(default=2, ge=1)
    #: A delivery worker silent for this long (another host) loses its claimed deliveries.
    worker_lease_s: float = Field(default=60.0, gt=0)


class ObservabilitySettings(Section):
    """Every long-running service answers ``/healthz`` and ``/metrics`` here (0 = a free port)."""

    enabled: bool = True
    host: str = "0.0.0.0"
    port: int = Field(default=9300, ge=0, le=65535)


class FeedConfig(Section):
    """One feed to poll."""

    url: str
    name: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 of the outlet")
    language: str | None = None
    regions: list[str] = Field(default_factory=list)
    interval_s: float | None = Field(default=None, gt=0)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be an ISO 3166-1 alpha-2 code such as 'EG'")
        return value.upper()


class Settings(BaseSettings):
    """The whole configuration of one newswatch process."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSWATCH_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    environment: Literal["development", "production"] = "development"
    #: Where embedded state lives (bus, index, fetcher/alerter state).
    data_dir: Path = Path("var")
    log: LogSettings = LogSettings()
    bus: BusSettings = BusSettings()
    topics: TopicNames = TopicNames()
    index: IndexSettings = IndexSettings()
    fetcher: FetcherSettings = FetcherSettings()
    extractor: ExtractorSettings = ExtractorSettings()
    indexer: IndexerSettings = IndexerSettings()
    alerter: AlerterSettings = AlerterSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    feeds: list[FeedConfig] = Field(default_factory=list)
    #: Subscriptions seeded at start-up (the alerter's store is the source of truth after that).
    subscriptions: list[dict[str, Any]] = Field(default_factory=list)
    #: The file these settings were read from, if any (set by ``load_settings``).
    config_file: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file: the file's content arrives as init kwargs.
        return (env_settings, init_settings)

    def data_path(self, path: Path) -> Path:
        """Resolve a state path: absolute paths as they are, relative ones under ``data_dir``."""
        return path if path.is_absolute() else self.data_dir / path

    @property
    def bus_path(self) -> Path:
        return self.data_path(self.bus.embedded.path)

    @property
    def index_path(self) -> Path:
        configured = self.index.embedded.path
        return self.bus_path if configured is None else self.data_path(configured)

    def check_secrets(self) -> None:
        """Refuse development secrets in production (the full-stack template's rule)."""
        if self.environment == "production":
            if self.alerter.secret_key.get_secret_value() == "change-me":
                raise ConfigError("alerter.secret_key: must be changed in production")
            if self.alerter.api.enabled and not self.alerter.api.api_keys:
                raise ConfigError("alerter.api.api_keys: at least one API key in production")


def resolve_config_path(
    explicit: str | Path | None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """Which config file to read: ``--config``, else ``$NEWSWATCH_CONFIG``, else newswatch.yaml."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.exists() else None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where}: not valid YAML: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, not a list or value")
    return data


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One readable line per problem: ``file: key.path: what is wrong (got value)``."""
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "<root>"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        got = error.get("input")
        shown = "" if error["type"] in ("missing", "extra_forbidden") else f" (got {got!r})"
        lines.append(f"{source}: {key}: {message}{shown}")
    return "\n".join(lines)


def load_settings(
    path: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load, merge and validate the configuration, or raise ``ConfigError`` naming file and key.

    ``overrides`` are applied on top of the file (used by tests and the demo); the environment
    still wins over both.
    """
    config_path = resolve_config_path(path)
    data: dict[str, Any] = _read_yaml(config_path) if config_path is not None else {}
    if overrides:
        data = _deep_merge(data, overrides)
    if config_path is not None:
        data["config_file"] = config_path
    source = str(config_path) if config_path is not None else "settings"
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from exc


def _deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
