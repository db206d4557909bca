"""``newswatch demo``: the whole pipeline, offline, on the bundled newsroom, in a few minutes.

It starts the newsroom server (new articles keep appearing while it runs), a local SMTP sink and
a webhook receiver, writes a configuration for them, runs the four services on the embedded
runtime in this process, shows progress per stage, and ends with a summary: feeds polled,
articles extracted, events by type and country, alerts sent, example searches, and where the
emails and webhooks were saved. Everything lives under the output folder; running it again
starts afresh.
"""

from __future__ import annotations

import collections
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from newswatch.app import Pipeline
from newswatch.bus import Bus, open_bus
from newswatch.demo.schedule import ReleaseSchedule
from newswatch.demo.server import NewsroomServer
from newswatch.demo.sinks import MailSink, WebhookReceiver
from newswatch.models.messages import Article, decode
from newswatch.roles import ROLES
from newswatch.settings import Settings, load_settings

__all__ = ["EXAMPLE_SEARCHES", "DemoOptions", "DemoResult", "demo_subscriptions", "run_demo"]

log = logging.getLogger(__name__)

#: The searches shown at the end (query, what it demonstrates).
EXAMPLE_SEARCHES: tuple[tuple[str, str], ...] = (
    ('Derna OR airstrike OR "air strike"', "keywords, phrases and OR"),
    ('country:EG AND event.type:"Remote explosive/landmine/IED"', "field filters on events"),
    ("smuggling -football", "a term, minus noise"),
)

WEBHOOK_SECRET = "demo-webhook-secret-0123456789"


@dataclass
class DemoOptions:
    out: Path = Path("demo-output")
    #: Seconds over which the newsroom releases its later waves of articles.
    release_seconds: float = 45.0
    #: Give up waiting for the pipeline to settle after this long (the summary still prints).
    timeout_s: float = 150.0
    #: Every article online at once and short intervals: the variant the tests run.
    fast: bool = False
    live: bool = True


@dataclass
class DemoResult:
    out: Path
    feeds: int = 0
    discovered: int = 0
    articles: int = 0
    extracted_ok: int = 0
    duplicates: int = 0
    events: int = 0
    events_by_type: dict[str, int] = field(default_factory=dict)
    events_by_country: dict[str, int] = field(default_factory=dict)
    emails: int = 0
    webhooks: int = 0
    webhooks_signed: int = 0
    alerts_by_subscription: dict[str, int] = field(default_factory=dict)
    deadletters: int = 0
    searches: list[dict[str, Any]] = field(default_factory=list)
    settled: bool = False
    elapsed_s: float = 0.0
    config_file: Path | None = None

    def to_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["out"] = str(self.out)
        data["config_file"] = str(self.config_file) if self.config_file else None
        return data


def demo_subscriptions(webhook_url: str) -> list[dict[str, Any]]:
    """The two example subscriptions: a keyword one (email + webhook) and a region one (email)."""
    return [
        {
            "id": "derna-airstrikes",
            "name": "Derna and airstrikes",
            "owner": "analyst@newswatch.demo",
            "query": 'Derna OR airstrike OR "air strike" OR "air strikes" OR airstrikes',
            "channels": {
                "emails": ["analyst@newswatch.demo"],
                "webhooks": [{"url": webhook_url, "secret": WEBHOOK_SECRET}],
            },
        },
        {
            "id": "north-sinai",
            "name": "Violence in North Sinai",
            "owner": "desk@newswatch.demo",
            "regions": {"admin1": ["EG:North Sinai"]},
            "channels": {"emails": ["desk@newswatch.demo"]},
        },
    ]


def _settings(
    opts: DemoOptions, newsroom: NewsroomServer, mail: MailSink, hooks: WebhookReceiver
) -> tuple[Settings, Path]:
    feeds = [
        {k: feed[k] for k in ("url", "name", "country", "language", "regions")}
        | {"interval_s": 3.0 if opts.fast else 4.0}
        for feed in newsroom.feed_urls()
    ]
    http = {
        "per_host_concurrency": 4,
        "per_host_delay_ms": 0,
        "connect_timeout_s": 5,
        "read_timeout_s": 10,
        "total_timeout_s": 20,
    }
    overrides: dict[str, Any] = {
        "data_dir": str(opts.out / "data"),
        "log": {"level": "WARNING"},
        "feeds": feeds,
        "subscriptions": demo_subscriptions(hooks.url),
        "fetcher": {
            "min_interval_s": 2.0,
            "max_interval_s": 6.0,
            "default_interval_s": 4.0,
            "jitter": 0.0,
            "http": http,
        },
        "extractor": {"http": http, "retries": 1, "retry_backoff_s": 0.2},
        "indexer": {"flush_interval_s": 0.2},
        "alerter": {
            "smtp": {"host": mail.host, "port": mail.port},
            "webhook": {"allow_private": True, "backoff_base_s": 0.2, "max_attempts": 3},
            "api": {"enabled": False},
            "secret_key": "demo-only-secret-key",
        },
        "observability": {"enabled": False},
    }
    config_file = opts.out / "newswatch.demo.yaml"
    import yaml

    config_file.write_text(
        "# The configuration the demo ran with (newswatch search --config this-file).\n"
        + yaml.safe_dump(overrides, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return load_settings(config_file), config_file


def _verify_signature() -> Callable[[dict[str, str], bytes], bool] | None:
    try:
        from services.alerter.channels.webhook import verify_signature
    except ImportError:
        return None

    def verify(headers: dict[str, str], body: bytes) -> bool:
        lowered = {k.lower(): v for k, v in headers.items()}
        return verify_signature(WEBHOOK_SECRET, body, lowered.get("newswatch-signature", ""))

    return verify


class _Progress:
    """Counts per stage, read from the bus (so it works whatever the services do inside)."""

    def __init__(self, bus: Bus, settings: Settings) -> None:
        self.bus = bus
        self.topics = settings.topics

    def snapshot(self) -> dict[str, Any]:
        infos = {info.name: info for info in self.bus.list_topics()}

        def count(name: str) -> int:
            info = infos.get(name)
            return info.messages if info else 0

        def lag(name: str, group: str) -> int | None:
            info = infos.get(name)
            if info is None or group not in info.lag_by_group:
                return None
            return info.lag_by_group[group]

        return {
            "discovered": count(self.topics.discovered),
            "articles": count(self.topics.articles),
            "alerts": count(self.topics.alerts),
            "deadletters": count(self.topics.deadletter),
            "extractor_lag": lag(self.topics.discovered, "extractor"),
            "indexer_lag": lag(self.topics.articles, "indexer"),
            "alerter_lag": lag(self.topics.articles, "alerter"),
        }


def _status_table(
    snap: dict[str, Any],
    newsroom: NewsroomServer,
    mail: MailSink,
    hooks: WebhookReceiver,
    started: float,
) -> Table:
    table = Table(title=f"newswatch demo — {time.monotonic() - started:4.0f}s", expand=False)
    for column in ("stage", "done", "waiting"):
        table.add_column(column)
    pending = len(newsroom.pending())
    table.add_row(
        "newsroom",
        f"{len(newsroom.released())} articles online",
        f"{pending} still to appear" if pending else "-",
    )
    table.add_row("fetcher", f"{snap['discovered']} items discovered", "-")
    table.add_row(
        "extractor",
        f"{snap['articles']} articles extracted",
        str(snap["extractor_lag"] if snap["extractor_lag"] is not None else "-"),
    )
    lag = snap["indexer_lag"]
    indexed = snap["articles"] - lag if lag is not None else 0
    table.add_row("indexer", f"{indexed} articles indexed", str(lag if lag is not None else "-"))
    table.add_row(
        "alerter",
        f"{mail.count} emails, {hooks.count} webhooks",
        str(snap["alerter_lag"] if snap["alerter_lag"] is not None else "-"),
    )
    table.add_row("dead letters", str(snap["deadletters"]), "-")
    return table


#: After the newsroom's last wave, wait this long (every feed is polled again meanwhile: the
#: demo caps feed intervals at 6 s) and until nothing has moved for QUIET_S.
AFTER_LAST_WAVE_S = 10.0
QUIET_S = 5.0


def _settled(
    snap: dict[str, Any], all_out_at: float | None, last_change: float, now: float
) -> bool:
    lags = (snap["extractor_lag"], snap["indexer_lag"], snap["alerter_lag"])
    return (
        all_out_at is not None
        and now - all_out_at > AFTER_LAST_WAVE_S
        and now - last_change > QUIET_S
        and snap["discovered"] > 0
        and all(lag == 0 for lag in lags)
    )


def run_demo(opts: DemoOptions, console: Console | None = None) -> DemoResult:
    console = console or Console()
    out = opts.out
    for sub in ("data", "mail", "webhooks"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out=out)
    schedule = (
        ReleaseSchedule.everything_at_once()
        if opts.fast
        else ReleaseSchedule(initial_fraction=0.7, waves=3, duration_seconds=opts.release_seconds)
    )
    started = time.monotonic()
    with NewsroomServer(release_schedule=schedule) as newsroom:
        mail = MailSink(out / "mail").start()
        hooks = WebhookReceiver(out / "webhooks", verify=_verify_signature()).start()
        try:
            settings, result.config_file = _settings(opts, newsroom, mail, hooks)
            result.feeds = len(settings.feeds)
            console.print(
                f"[bold]newswatch demo[/]: newsroom of {len(newsroom.feed_urls())} "
                f"outlets at {newsroom.base_url}, output in {out}/"
            )
            pipeline = Pipeline(settings, list(ROLES), serve_observability=False)
            thread = threading.Thread(target=pipeline.run, name="pipeline", daemon=True)
            thread.start()
            bus = open_bus(settings)
            progress = _Progress(bus, settings)
            last_change, last = time.monotonic(), None
            all_out_at: float | None = None
            with Live(console=console, auto_refresh=False, transient=not opts.live) as live:
                while time.monotonic() - started < opts.timeout_s and thread.is_alive():
                    snap = progress.snapshot()
                    key = (snap["discovered"], snap["articles"], mail.count, hooks.count)
                    now = time.monotonic()
                    if key != last:
                        last, last_change = key, now
                    if all_out_at is None and not newsroom.pending():
                        all_out_at = now
                    if opts.live:
                        live.update(
                            _status_table(snap, newsroom, mail, hooks, started), refresh=True
                        )
                    if _settled(snap, all_out_at, last_change, now):
                        result.settled = True
                        break
                    time.sleep(0.5)
            pipeline.stopping.set()
            thread.join(timeout=60)
            if pipeline.unavailable:
                for name, why in pipeline.unavailable.items():
                    console.print(f"[yellow]{name}[/]: {why}")
            _collect(result, bus, settings, mail, hooks)
            bus.close()
        finally:
            mail.stop()
            hooks.stop()
    result.searches = _searches(settings)
    result.elapsed_s = time.monotonic() - started
    (out / "summary.json").write_text(
        json.dumps(result.to_json(), indent=2, default=str), encoding="utf-8"
    )
    return result


def _collect(
    result: DemoResult, bus: Bus, settings: Settings, mail: MailSink, hooks: WebhookReceiver
) -> None:
    infos = {info.name: info for info in bus.list_topics()}
    result.discovered = infos[settings.topics.discovered].messages
    result.deadletters = infos[settings.topics.deadletter].messages
    by_type: collections.Counter[str] = collections.Counter()
    by_country: collections.Counter[str] = collections.Counter()
    latest: dict[str, Article] = {}
    for message in bus.read(settings.topics.articles, from_beginning=True, limit=1_000_000):
        article = decode(Article, message.value)
        latest[article.article_id] = article
    for article in latest.values():
        result.extracted_ok += article.extraction_status == "ok"
        result.duplicates += article.duplicate_of is not None
        if article.duplicate_of is not None:
            continue
        for event in article.events:
            if event.background:
                continue
            result.events += 1
            by_type[event.sub_event_type] += 1
            country = event.location.country_code if event.location else None
            by_country[country or "?"] += 1
    result.articles = len(latest)
    result.events_by_type = dict(by_type.most_common())
    result.events_by_country = dict(by_country.most_common())
    result.emails = mail.count
    result.webhooks = hooks.count
    result.webhooks_signed = hooks.valid_signatures
    fired: collections.Counter[str] = collections.Counter()
    for message in bus.read(settings.topics.alerts, from_beginning=True, limit=1_000_000):
        try:
            record = json.loads(message.value)
        except ValueError:
            continue
        if record.get("status") == "delivered":
            fired[record.get("subscription_id", "?")] += 1
    result.alerts_by_subscription = dict(fired)


def _searches(settings: Settings) -> list[dict[str, Any]]:
    """Run the example searches against the index the demo just filled."""
    from services.indexer import open_index

    results: list[dict[str, Any]] = []
    index = open_index(settings)
    try:
        for query, why in EXAMPLE_SEARCHES:
            found = index.search(query, size=3, highlight=("[bold yellow]", "[/bold yellow]"))
            hits = [
                {
                    "title": hit.document.get("title") or "(untitled)",
                    "source": (hit.document.get("source") or {}).get("name", ""),
                    "snippet": " ".join((hit.snippet or "").split()),
                }
                for hit in found.hits
            ]
            results.append({"query": query, "why": why, "total": found.total, "hits": hits})
    finally:
        index.close()
    return results


def print_summary(result: DemoResult, console: Console) -> None:
    console.rule("[bold]newswatch demo: summary")
    console.print(
        f"Feeds polled: {result.feeds}    items discovered: {result.discovered}    "
        f"articles extracted: {result.extracted_ok}/{result.articles} "
        f"({result.duplicates} syndicated duplicates)    "
        f"dead letters: {result.deadletters}    time: {result.elapsed_s:.0f}s"
    )
    types = Table(title=f"{result.events} events by type")
    types.add_column("sub-event type")
    types.add_column("events", justify="right")
    for name, count in result.events_by_type.items():
        types.add_row(name, str(count))
    console.print(types)
    console.print(
        "Events by country: " + ", ".join(f"{cc} {n}" for cc, n in result.events_by_country.items())
    )
    console.print(
        f"Alerts: {result.emails} emails in {result.out / 'mail'}/, "
        f"{result.webhooks} webhooks in {result.out / 'webhooks'}/ "
        f"({result.webhooks_signed} with a valid signature); by subscription: "
        + ", ".join(f"{k} {v}" for k, v in result.alerts_by_subscription.items())
    )
    for search in result.searches:
        console.print(f"\n[bold]newswatch search[/] '{search['query']}'  ({search['why']})")
        if "error" in search:
            console.print(f"  error: {search['error']}")
            continue
        console.print(f"  {search['total']} hits")
        for hit in search["hits"]:
            console.print(f"  - {escape(hit['title'])}  [dim]{escape(hit['source'])}[/]")
            if hit["snippet"]:
                console.print(f"    {hit['snippet']}")
    config = result.config_file
    console.rule("where to look next")
    console.print(f"  search the demo archive:  newswatch search 'Derna' --config {config}")
    console.print(f"  read the alert emails:    {result.out / 'mail'}/*.eml")
    console.print(f"  webhook payloads:         {result.out / 'webhooks'}/*.json")
    console.print(f"  the bus, topic by topic:  newswatch topics list --config {config}")
    console.print("  run it on real feeds:     make run   (configure feeds in newswatch.yaml)")
    if not result.settled:
        console.print(
            "[yellow]The pipeline had not caught up when the demo's time ran out; "
            "the figures above are what was done by then.[/]"
        )
