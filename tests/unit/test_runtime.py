"""The shared consumer loop: decode or dead-letter, flush before commit, retry on failure."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from newswatch.bus import Message, open_bus
from newswatch.models.messages import DeadLetter, DiscoveredItem, decode, encode
from newswatch.observability import HealthRegistry, ObservabilityServer
from newswatch.runtime import ConsumerService, ServiceContext
from newswatch.settings import Settings, load_settings
from tests.factories import discovered


def make_settings(tmp_path: Path) -> Settings:
    return load_settings(None, overrides={"data_dir": str(tmp_path)})


class Echo(ConsumerService):
    """Copies each discovered item's title to news.articles as a raw record."""

    name = "echo"
    group = "echo"
    batch_size = 10
    poll_timeout_s = 0.05
    retry_pause_s = 0.0

    def __init__(self, ctx: ServiceContext, fail_times: int = 0) -> None:
        super().__init__(ctx)
        self.fail_times = fail_times
        self.seen: list[str] = []

    @property
    def input_topics(self) -> list[str]:
        return [self.settings.topics.discovered]

    def process_batch(self, messages: list[Message]) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("transient failure")
        for message in messages:
            item = self.decode_or_deadletter(DiscoveredItem, message)
            if item is not None:
                self.seen.append(item.title)
                self.producer.publish("echoed", item.article_id, item.title.encode())


@pytest.fixture
def ctx(tmp_path: Path) -> ServiceContext:
    settings = make_settings(tmp_path)
    return ServiceContext(settings, open_bus(settings))


def publish(ctx: ServiceContext, values: list[bytes]) -> None:
    with ctx.bus.producer() as producer:
        for i, value in enumerate(values):
            producer.publish(ctx.settings.topics.discovered, f"k{i}", value)


def test_poison_messages_are_dead_lettered_and_the_rest_processed(ctx: ServiceContext) -> None:
    good = [encode(discovered(f"https://x.example/{i}", title=f"t{i}")) for i in range(3)]
    publish(ctx, [good[0], b"{not json", good[1], b'{"schema": "newswatch.discovered/9"}', good[2]])
    service = Echo(ctx)
    service.run(once=True)
    assert sorted(service.seen) == ["t0", "t1", "t2"]
    letters = [decode(DeadLetter, m.value) for m in ctx.bus.read("news.deadletter", limit=10)]
    assert len(letters) == 2
    assert {letter.error_kind for letter in letters} == {"contract"}
    assert {letter.stage for letter in letters} == {"echo"}
    assert any("unsupported version" in letter.error_message for letter in letters)
    assert all(letter.original_topic == "news.discovered" for letter in letters)
    assert any(letter.original_payload == "{not json" for letter in letters)


def test_everything_is_committed_after_a_run(ctx: ServiceContext) -> None:
    publish(ctx, [encode(discovered(f"https://x.example/{i}")) for i in range(25)])
    Echo(ctx).run(once=True)
    second = Echo(ctx)
    second.run(once=True)
    assert second.seen == [], "a restart re-reads nothing that was committed"
    (info,) = [t for t in ctx.bus.list_topics() if t.name == "news.discovered"]
    assert info.lag_by_group["echo"] == 0


def test_a_failing_batch_is_retried_not_lost(ctx: ServiceContext) -> None:
    publish(ctx, [encode(discovered(f"https://x.example/{i}", title=f"t{i}")) for i in range(4)])
    service = Echo(ctx, fail_times=2)
    service.run(once=True)
    assert sorted(service.seen) == ["t0", "t1", "t2", "t3"]
    echoed = ctx.bus.read("echoed", from_beginning=True, limit=100)
    assert len(echoed) == 4, "the failed attempts published nothing"


def test_stop_finishes_the_current_batch_and_commits(ctx: ServiceContext) -> None:
    publish(ctx, [encode(discovered(f"https://x.example/{i}")) for i in range(5)])
    service = Echo(ctx)
    original = service.process_batch

    def process_then_stop(messages: list[Message]) -> None:
        original(messages)
        service.stop()

    service.process_batch = process_then_stop  # type: ignore[method-assign]
    service.run()  # without once: returns only because of stop()
    assert len(service.seen) == 5
    assert Echo(ServiceContext(ctx.settings, ctx.bus)).consumer.poll(10, timeout=0.2) == []


def test_health_and_metrics_endpoints(ctx: ServiceContext) -> None:
    health = HealthRegistry()
    healthy = threading.Event()
    healthy.set()
    health.register("bus", lambda: (healthy.is_set(), "reachable" if healthy.is_set() else "down"))
    server = ObservabilityServer(health, "127.0.0.1", 0).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        publish(ctx, [encode(discovered("https://x.example/m"))])
        Echo(ctx).run(once=True)
        ok = httpx.get(f"{base}/healthz")
        assert ok.status_code == 200
        assert ok.json()["checks"]["bus"] == {"ok": True, "detail": "reachable"}
        healthy.clear()
        failing = httpx.get(f"{base}/healthz")
        assert failing.status_code == 503
        assert json.loads(failing.text)["status"] == "failing"
        metrics = httpx.get(f"{base}/metrics").text
        assert (
            'newswatch_messages_consumed_total{service="echo",topic="news.discovered"}' in metrics
        )
        assert httpx.get(f"{base}/nope").status_code == 404
    finally:
        server.stop()


def test_a_raising_health_check_reports_failure() -> None:
    health = HealthRegistry()

    def broken() -> tuple[bool, str]:
        raise OSError("disk gone")

    health.register("disk", broken)
    ok, results = health.report()
    assert not ok
    assert "disk gone" in str(results["disk"]["detail"])
