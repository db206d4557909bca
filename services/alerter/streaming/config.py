"""The faust app's configuration, derived from newswatch settings (no separate faust config).

``use_faust`` decides the engine (``alerter.engine``); ``faust_options`` maps the Kafka section of
the settings onto faust's: the same brokers, partitions, replication, compression, timeouts and
credentials the rest of the pipeline uses, so the app's internal topics (changelogs, the spike
hits) are provisioned like the pipeline's own.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from newswatch.errors import ConfigError
from newswatch.settings import Settings

__all__ = ["faust_options", "use_faust"]


def use_faust(settings: Settings) -> bool:
    """Whether ``newswatch alerter`` runs the faust app: ``auto`` means "on Kafka"."""
    engine = settings.alerter.engine
    on_kafka = settings.bus.backend == "kafka"
    if engine == "faust" and not on_kafka:
        raise ConfigError(
            "alerter.engine: faust needs bus.backend: kafka (faust has no embedded transport)"
        )
    return engine == "faust" or (engine == "auto" and on_kafka)


def _credentials(settings: Settings) -> Any:
    import faust

    kafka = settings.bus.kafka
    protocol = kafka.security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl.create_default_context() if protocol.endswith("SSL") else None
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    if kafka.sasl_username is None:
        raise ConfigError(f"bus.kafka.sasl_username: needed with {protocol}")
    password = "" if kafka.sasl_password is None else kafka.sasl_password.get_secret_value()
    return faust.SASLCredentials(
        username=kafka.sasl_username,
        password=password,
        mechanism=kafka.sasl_mechanism or "PLAIN",
        ssl_context=context,
    )


def faust_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``faust.App`` for these settings."""
    kafka = settings.bus.kafka
    cfg = settings.alerter.faust
    session_s = kafka.session_timeout_ms / 1000
    options: dict[str, Any] = {
        "broker": [f"kafka://{h.strip()}" for h in kafka.bootstrap_servers.split(",") if h.strip()],
        "broker_client_id": f"{kafka.client_id}-alerter",
        "store": cfg.store,
        # Tables are co-partitioned with news.articles: their changelogs need its partitions.
        "topic_partitions": kafka.partitions,
        "topic_replication_factor": kafka.replication_factor,
        "producer_acks": -1,
        "producer_compression_type": None if kafka.compression == "none" else kafka.compression,
        "broker_session_timeout": session_s,
        "broker_heartbeat_interval": max(0.5, min(3.0, session_s / 3)),
        "broker_max_poll_interval": kafka.max_poll_interval_ms / 1000,
        # faust refuses a request timeout below the session timeout.
        "broker_request_timeout": max(90.0, session_s + 30.0),
        # A new group reads news.articles from the start (dedupe makes replays harmless).
        "consumer_auto_offset_reset": "earliest",
        "processing_guarantee": "at_least_once",
        "web_enabled": False,
        "autodiscover": False,
        # faust's default, "<app id>-data" in the working directory, litters wherever the
        # process was started (a checkout, under tests); the image's working directory is the
        # data directory, so deployed paths stay the same.
        "datadir": settings.data_path(Path(f"{cfg.app_id}-data")),
    }
    credentials = _credentials(settings)
    if credentials is not None:
        options["broker_credentials"] = credentials
    return options
