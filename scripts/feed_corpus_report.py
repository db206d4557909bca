"""Serve every feed file of a corpus over local HTTP, run the fetcher over all of them, report.

    .venv/bin/python scripts/feed_corpus_report.py [--data ../shared/data/feeds] [--json]

Prints how many files parsed, how many items were published, the failures by reason, the
outcomes per corpus folder, and any file that crashed the parser or timed out. Exits 1 if any
did (the fetcher must survive every file), 2 if the corpus folder is missing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.fetcher.corpus import run_corpus  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "feeds"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT, help=f"corpus folder ({DEFAULT})")
    parser.add_argument("--limit", type=int, help="only the first N files")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    if not args.data.is_dir():
        print(f"no feed corpus at {args.data}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="feed-corpus-") as tmp:
        report = run_corpus(args.data, Path(tmp), limit=args.limit)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(f"corpus: {args.data}")
        print(f"files served:     {report.files}")
        print(f"polled:           {report.polled}")
        print(f"parsed:           {report.parsed} ({report.parsed / max(report.files, 1):.0%})")
        print(f"items published:  {report.published}")
        print(f"elapsed:          {report.elapsed_s:.1f} s")
        print("failures by reason:")
        for reason, count in report.failures.most_common():
            print(f"  {reason:20} {count}")
        print("outcomes by folder:")
        for name, outcomes in sorted(report.by_set.items()):
            shown = ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
            print(f"  {name:24} {shown}")
        for rel, error in report.crashes:
            print(f"CRASH {rel}: {error}")
        for rel in report.hangs:
            print(f"HANG  {rel}")
    return 1 if report.crashes or report.hangs else 0


if __name__ == "__main__":
    sys.exit(main())
