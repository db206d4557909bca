"""Extraction quality on a gold folder: the pipeline's extraction next to plain trafilatura.

Usage::

    .venv/bin/python -m services.extractor.evaluate [--data DIR]   # make eval-extract DATA=DIR

``DIR`` is laid out like the Article Extraction Benchmark (``gold.jsonl`` with ``id``,
``html_file`` and ``body``, plus the HTML files); it defaults to
``../shared/data/articles/scrapinghub_aeb`` beside the repository. For every page the pipeline's
own decoding and extraction (``decode_html`` + ``extract_article``: what the extractor would
publish as ``text``) and plain ``trafilatura.extract(html)`` with default settings are scored
against the gold body: precision, recall and F1 over the multiset of lower-cased word tokens.
Overall figures are the means over pages (as the benchmark reports them). The last line is the
pipeline's overall F1, ``F1: 0.xxx``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from services.extractor.charset import decode_html
from services.extractor.errors import EvaluationDataMissing
from services.extractor.extract import extract_article

__all__ = ["GoldPage", "Score", "evaluate", "load_gold", "main", "pipeline_text", "score"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "articles" / "scrapinghub_aeb"
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class GoldPage:
    id: str
    url: str | None
    html: bytes
    body: str


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def tokens(text: str | None) -> Counter[str]:
    return Counter(_TOKEN.findall((text or "").lower()))


def score(predicted: str | None, gold: str) -> Score:
    """Token-level precision, recall and F1 of ``predicted`` against ``gold``."""
    pred, ref = tokens(predicted), tokens(gold)
    common = sum((pred & ref).values())
    precision = common / sum(pred.values()) if pred else 0.0
    recall = common / sum(ref.values()) if ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def load_gold(folder: Path) -> list[GoldPage]:
    """Read ``gold.jsonl`` and the HTML files it names, or raise ``EvaluationDataMissing``."""
    gold_file = folder / "gold.jsonl"
    if not gold_file.is_file():
        raise EvaluationDataMissing(f"{folder}: no gold.jsonl here (is the evaluation data there?)")
    pages = []
    for number, line in enumerate(gold_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            html_path = folder / record["html_file"]
            pages.append(
                GoldPage(
                    id=str(record["id"]),
                    url=record.get("url"),
                    html=html_path.read_bytes(),
                    body=record["body"] or "",
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise EvaluationDataMissing(f"{gold_file}:{number}: unreadable record: {exc}") from exc
        except OSError as exc:
            raise EvaluationDataMissing(f"{gold_file}:{number}: {exc}") from exc
    if not pages:
        raise EvaluationDataMissing(f"{gold_file}: no records")
    return pages


def pipeline_text(html: bytes, url: str | None = None) -> str:
    """The text the extractor would publish for this page."""
    return extract_article(decode_html(html).text, url=url).text


def plain_text(html: bytes, url: str | None = None) -> str:
    return trafilatura.extract(html) or ""


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def evaluate(
    pages: Sequence[GoldPage],
    out: Callable[[str], None] = print,
) -> tuple[Score, Score]:
    """Score both extractors on ``pages``, printing a row per page; return the overall scores."""
    rows: list[tuple[Score, Score]] = []
    out(f"{'page':<20} {'P':>6} {'R':>6} {'F1':>6}   {'plain P':>7} {'R':>6} {'F1':>6}")
    for page in pages:
        mine = score(pipeline_text(page.html, page.url), page.body)
        plain = score(plain_text(page.html, page.url), page.body)
        rows.append((mine, plain))
        out(
            f"{page.id[:20]:<20} {mine.precision:6.3f} {mine.recall:6.3f} {mine.f1:6.3f}"
            f"   {plain.precision:7.3f} {plain.recall:6.3f} {plain.f1:6.3f}"
        )
    overall = []
    for which in (0, 1):
        scores = [row[which] for row in rows]
        overall.append(
            Score(
                _mean([s.precision for s in scores]),
                _mean([s.recall for s in scores]),
                _mean([s.f1 for s in scores]),
            )
        )
    return overall[0], overall[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.extractor.evaluate",
        description="Token-level precision/recall/F1 of the extractor against a gold folder, "
        "next to plain trafilatura.extract.",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help=f"folder with gold.jsonl and the HTML files (default: {DEFAULT_DATA})",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    folder: Path = args.data or DEFAULT_DATA
    try:
        pages = load_gold(folder)
    except EvaluationDataMissing as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        if args.data is None:
            print("evaluate: pass --data DIR (make eval-extract DATA=DIR)", file=sys.stderr)
        return 2
    mine, plain = evaluate(pages)
    print(f"pages: {len(pages)}  ({folder})")
    print(
        f"plain trafilatura.extract  P {plain.precision:.3f}  R {plain.recall:.3f}"
        f"  F1 {plain.f1:.3f}"
    )
    print(
        f"pipeline                   P {mine.precision:.3f}  R {mine.recall:.3f}  F1 {mine.f1:.3f}"
    )
    print(f"difference (pipeline - plain): {mine.f1 - plain.f1:+.3f}")
    print(f"F1: {mine.f1:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
