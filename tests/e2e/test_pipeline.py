"""End to end on both runtimes: feeds and pages → fetcher → extractor → indexer + alerter.

One test body, two runtimes (three variants):

* ``embedded``: the four services in one ``newswatch run`` process over one SQLite file;
* ``distributed``: tansu for Kafka and osmem-server for Elasticsearch, each service its own
  process (``newswatch fetcher|extractor|indexer|alerter``), all configured by one YAML file as
  an operator would; the alerter is the plain consumer on tansu (the fallback) and the faust
  app on a real Kafka;
* ``distributed-faust``: the same with the faust app on tansu too.

The newsroom is two outlets of the demo's (30 articles, every one online at once): an Egyptian
one reporting from North Sinai and a Libyan one reporting from Derna. Two subscriptions watch
them. The test waits until every article is searchable, then checks what an analyst sees:
``newswatch search --json`` finds the Derna stories, the alert emails reached the SMTP server
(aiosmtpd) and the webhooks reached the local receiver with a valid signature, each
(subscription, article) once.
"""

from __future__ import annotations

import email
import email.policy
import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from newswatch.demo.content import Newsroom, load_newsroom
from newswatch.demo.schedule import ReleaseSchedule
from newswatch.demo.server import NewsroomServer
from newswatch.demo.sinks import MailSink, WebhookReceiver
from newswatch.settings import Settings, load_settings
from services.alerter.channels.webhook import verify_signature

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

OUTLETS = ("cairo-courier", "cyrenaica-herald")
SECRET = "whsec_e2e_0123456789abcdef"
#: How long the pipeline may take to index every article and send the alerts.
SETTLE_TIMEOUT_S = 150.0
ROLES = ("fetcher", "extractor", "indexer", "alerter")


def small_newsroom() -> Newsroom:
    full = load_newsroom()
    return Newsroom(
        outlets=tuple(o for o in full.outlets if o.id in OUTLETS),
        articles=tuple(a for a in full.articles if a.outlet in OUTLETS),
    )


def subscriptions(webhook_url: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "derna",
            "name": "Derna",
            "owner": "analyst@example.org",
            "query": "Derna",
            "channels": {
                "emails": ["analyst@example.org"],
                "webhooks": [{"url": webhook_url, "secret": SECRET}],
            },
        },
        {
            "id": "north-sinai",
            "name": "Violence in North Sinai",
            "owner": "desk@example.org",
            "regions": {"admin1": ["EG:North Sinai"]},
            "channels": {"emails": ["desk@example.org"]},
        },
    ]


@dataclass
class World:
    """The outside world of the pipeline: news sites, a mail server, a webhook receiver."""

    tmp: Path
    newsroom: NewsroomServer
    mail: MailSink
    hooks: WebhookReceiver

    def config(self) -> dict[str, Any]:
        """What both runtimes share: feeds, subscriptions, sinks, quick polling."""
        http = {
            "per_host_concurrency": 8,
            "per_host_delay_ms": 0,
            "connect_timeout_s": 5,
            "read_timeout_s": 10,
            "total_timeout_s": 20,
        }
        return {
            "data_dir": str(self.tmp / "var"),
            "log": {"level": "INFO", "format": "text"},
            "feeds": [
                {k: feed[k] for k in ("url", "name", "country", "language", "regions")}
                | {"interval_s": 3.0}
                for feed in self.newsroom.feed_urls()
            ],
            "subscriptions": subscriptions(self.hooks.url),
            "fetcher": {
                "min_interval_s": 2.0,
                "default_interval_s": 3.0,
                "max_interval_s": 5.0,
                "jitter": 0.0,
                "max_item_age_days": 0,
                "http": http,
            },
            "extractor": {"http": http, "retries": 1, "retry_backoff_s": 0.2},
            "indexer": {"flush_interval_s": 0.2},
            "alerter": {
                "smtp": {"host": self.mail.host, "port": self.mail.port},
                "webhook": {"allow_private": True, "backoff_base_s": 0.2, "max_attempts": 3},
                "api": {"enabled": False},
                "secret_key": "e2e-secret-key",
                "faust": {"log_level": "INFO"},  # its story, should the test fail
            },
            "observability": {"enabled": False},
        }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    def verify(headers: dict[str, str], body: bytes) -> bool:
        lowered = {k.lower(): v for k, v in headers.items()}
        return verify_signature(SECRET, body, lowered.get("newswatch-signature", ""))

    server = NewsroomServer(
        release_schedule=ReleaseSchedule.everything_at_once(), newsroom=small_newsroom()
    )
    with server as newsroom:
        mail = MailSink(tmp_path / "mail").start()
        hooks = WebhookReceiver(tmp_path / "webhooks", verify=verify).start()
        try:
            yield World(tmp_path, newsroom, mail, hooks)
        finally:
            hooks.stop()
            mail.stop()


# -- processes ----------------------------------------------------------------------------------


@dataclass
class Processes:
    """``newswatch`` subprocesses with their logs; stopped with SIGTERM (then SIGKILL)."""

    logs: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "newswatch.cli.main", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )

    def check_alive(self) -> None:
        for name, proc in self.running.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, size: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def stop(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.running.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@contextmanager
def processes(logs: Path) -> Iterator[Processes]:
    procs = Processes(logs)
    try:
        yield procs
    finally:
        procs.stop()


# -- the two runtimes ---------------------------------------------------------------------------


def write_config(world: World, extra: dict[str, Any]) -> tuple[Path, Settings]:
    config = world.config()
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    path = world.tmp / "newswatch.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path, load_settings(path)


@contextmanager
def embedded(world: World, stack: ExitStack) -> Iterator[tuple[Path, Settings, Processes]]:
    path, settings = write_config(world, {})
    procs = stack.enter_context(processes(world.tmp / "logs"))
    procs.start("run", "run", "--config", str(path))
    yield path, settings, procs


#: A real Kafka was given (KAFKA_BOOTSTRAP_SERVERS); otherwise the tests start tansu.
ON_REAL_KAFKA = bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))


@contextmanager
def distributed(
    world: World, stack: ExitStack, *, engine: str | None = None
) -> Iterator[tuple[Path, Settings, Processes]]:
    from tests.elastic_support import es_target
    from tests.kafka_broker import BrokerUnavailable, kafka_bootstrap

    try:
        bootstrap, stop_kafka = kafka_bootstrap()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    stack.callback(stop_kafka)
    elastic = stack.enter_context(es_target())
    path, settings = write_config(
        world,
        {
            "bus": {
                "backend": "kafka",
                "kafka": {
                    "bootstrap_servers": bootstrap,
                    "partitions": 2,
                    # tansu waits for every member up to this long in a rebalance.
                    "max_poll_interval_ms": 10_000,
                    "session_timeout_ms": 6_000,
                    "connect_timeout_s": 30,
                },
            },
            "index": {
                "backend": "elasticsearch",
                "elasticsearch": {
                    "url": elastic.url,
                    # osmem-server (and OpenSearch) want plain application/json.
                    "compat_headers": elastic.real,
                    "index_prefix": f"e2e{os.getpid()}",
                },
            },
            # On tansu the faust app's table recovery trusts tansu's wrong end offsets and now
            # and then stops during start-up (see tests/integration/alerter/test_faust_app.py),
            # which would make this test flaky: there the plain alerter (the documented
            # fallback, alerter.engine: plain) runs on Kafka; on a real Kafka, the faust app.
            # ``distributed-faust`` runs the faust app on tansu as well: the failure seen here
            # (no alert at all, now and then) was faust skipping what news.articles held before
            # its first start, fixed in services/alerter/streaming/app.py (FromTheStartConsumer).
            "alerter": {"engine": engine or ("faust" if ON_REAL_KAFKA else "plain")},
        },
    )
    procs = stack.enter_context(processes(world.tmp / "logs"))
    for role in ROLES:
        procs.start(role, role, "--config", str(path))
    yield path, settings, procs


RUNTIMES: dict[str, Callable[[World, ExitStack], Any]] = {
    "embedded": embedded,
    "distributed": distributed,
    "distributed-faust": functools.partial(distributed, engine="faust"),
}


# -- the test -----------------------------------------------------------------------------------


def indexed(settings: Settings) -> int:
    from services.indexer import open_index

    index = open_index(settings)
    try:
        return index.count("")
    except Exception:  # the index may not exist yet
        return 0
    finally:
        index.close()


def wait_until_settled(world: World, settings: Settings, procs: Processes, expected: int) -> float:
    """Every article indexed, both subscriptions alerted, nothing moving for a moment."""
    started = time.monotonic()
    last: tuple[int, int, int] | None = None
    last_change = started
    while time.monotonic() - started < SETTLE_TIMEOUT_S:
        procs.check_alive()
        state = (indexed(settings), world.mail.count, world.hooks.count)
        now = time.monotonic()
        if state != last:
            last, last_change = state, now
        if state[0] >= expected and state[1] >= 2 and state[2] >= 1 and now - last_change > 3.0:
            return now - started
        time.sleep(0.5)
    tails = "\n".join(f"--- {name}\n{procs.tail(name)}" for name in procs.running)
    raise AssertionError(f"not settled after {SETTLE_TIMEOUT_S}s: {last}\n{tails}")


def newswatch_json(*args: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "newswatch.cli.main", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.mark.parametrize("runtime", list(RUNTIMES))
def test_feeds_become_search_results_emails_and_signed_webhooks(
    runtime: str, world: World, record_property: Callable[[str, object], None]
) -> None:
    started = time.monotonic()
    expected = len(world.newsroom.released())
    with ExitStack() as stack:
        path, settings, procs = stack.enter_context(RUNTIMES[runtime](world, stack))
        settle_s = wait_until_settled(world, settings, procs, expected)
        record_property("settle_seconds", round(settle_s, 1))
        if runtime == "distributed-faust" or (runtime == "distributed" and ON_REAL_KAFKA):
            assert "(faust app " in procs.tail("alerter", 1_000_000), "the faust alerter ran"

        # Search: what an analyst types.
        found = newswatch_json("search", "Derna", "--config", str(path), "--limit", "20")
        assert found["total"] >= 3
        for hit in found["hits"]:
            text = " ".join(str(hit.get(k) or "") for k in ("title", "snippet", "text"))
            assert "Derna" in text, hit
        everything = newswatch_json("search", "", "--config", str(path), "--limit", "1")
        assert everything["total"] == indexed(settings) >= expected
        libya = newswatch_json("search", "", "--country", "LY", "--config", str(path))
        assert libya["total"] >= 3

    # Emails: one per (subscription, article), to the right people, with the facts.
    mails = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((world.tmp / "mail").glob("*.eml"))
    ]
    recipients = {str(m["To"]) for m in mails}
    assert any("analyst@example.org" in r for r in recipients)
    assert any("desk@example.org" in r for r in recipients)
    message_ids = [str(m["Message-ID"]) for m in mails]
    assert len(message_ids) == len(set(message_ids)), "an email was sent twice"
    derna_mail = next(m for m in mails if "analyst@example.org" in str(m["To"]))
    body = derna_mail.get_body(preferencelist=("plain",))
    assert body is not None and "Derna" in body.get_content()
    assert derna_mail["List-Unsubscribe"]

    # Webhooks: signed, for the Derna subscription, each alert once.
    hooks = world.hooks.received
    assert hooks
    assert all(h["signature_valid"] for h in hooks), "every webhook carries a valid signature"
    delivery_ids = [h["headers"]["Newswatch-Delivery-Id"] for h in hooks]
    assert len(delivery_ids) == len(set(delivery_ids)), "a webhook was delivered twice"
    for record in hooks:
        payload = record["payload"]
        assert payload["schema"] == "newswatch.webhook-alert/1"
        assert payload["subscription"]["id"] == "derna"
        assert payload["delivery_id"] == record["headers"]["Newswatch-Delivery-Id"]
        assert any("Derna" in json.dumps(a) for a in payload["alerts"])
    derna_webhooks = len(hooks)
    derna_mails = sum("analyst@example.org" in str(m["To"]) for m in mails)
    assert derna_webhooks == derna_mails, "email and webhook carry the same alerts"
    print(f"{runtime}: settled in {settle_s:.0f}s, test {time.monotonic() - started:.0f}s")
