"""``newswatch topics list | tail TOPIC``: look inside the bus."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from newswatch.bus import Message, open_bus
from newswatch.cli.common import add_common, print_json, settings_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("topics", help="list topics or tail one")
    sub = parser.add_subparsers(dest="topics_command", metavar="ACTION", required=True)
    lister = sub.add_parser("list", help="topics with partitions, messages and lag per group")
    add_common(lister, json_output=True)
    lister.set_defaults(func=run_list)
    tail = sub.add_parser("tail", help="print a topic's messages")
    add_common(tail, json_output=True)
    tail.add_argument("topic", help="topic name, e.g. news.articles")
    tail.add_argument("-n", type=int, default=10, help="how many messages (default 10)")
    tail.add_argument("--from-beginning", action="store_true", help="oldest first")
    tail.add_argument("-f", "--follow", action="store_true", help="keep printing new messages")
    tail.set_defaults(func=run_tail)


def run_list(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with open_bus(settings) as bus:
        infos = bus.list_topics()
    if args.json:
        print_json([info.__dict__ for info in infos])
        return 0
    print(f"{'TOPIC':24} {'PARTS':>5} {'MESSAGES':>9}  LAG BY GROUP")
    for info in infos:
        lag = ", ".join(f"{g}={n}" for g, n in sorted(info.lag_by_group.items())) or "-"
        print(f"{info.name:24} {info.partitions:>5} {info.messages:>9}  {lag}")
    return 0


def _render(message: Message, as_json: bool) -> str:
    try:
        value: Any = json.loads(message.value)
    except ValueError:
        value = message.value.decode("utf-8", "backslashreplace")
    if as_json:
        return json.dumps(
            {
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
                "key": None if message.key is None else message.key.decode("utf-8", "replace"),
                "timestamp": message.timestamp,
                "value": value,
            },
            ensure_ascii=False,
        )
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(message.timestamp))
    summary = value
    if isinstance(value, dict):
        summary = {k: value[k] for k in list(value)[:6]}
    text = json.dumps(summary, ensure_ascii=False)
    return f"{stamp} {message.describe()} {text[:200]}"


def run_tail(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with open_bus(settings) as bus:
        messages = bus.read(args.topic, from_beginning=args.from_beginning, limit=args.n)
        for message in messages:
            print(_render(message, args.json), flush=True)
        if not args.follow:
            return 0
        consumer = bus.consumer(f"tail-{time.time_ns()}", [args.topic], offset_reset="latest")
        try:
            while True:
                for message in consumer.poll(100, timeout=1.0):
                    print(_render(message, args.json), flush=True)
        except KeyboardInterrupt:
            return 0
        finally:
            consumer.close()
