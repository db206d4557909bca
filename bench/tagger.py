"""Tagging cost against trafilatura's extraction of the same page, in one run.

    .venv/bin/python bench/tagger.py [--pages DIR] [--repeat N]

For every HTML page of ``../shared/data/articles/scrapinghub_aeb/html`` (real news pages; skipped
with a message when absent) it times ``trafilatura.extract(html)`` and ``tag(text)`` on the
extracted text, and prints the median milliseconds, the tagging time scaled to 800 words, and the
ratio tagging / extraction (the issue's budget: at most 0.30). A synthetic 800-word wire article
dense with places, actors and casualties is timed as well (the worst case for the matchers).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.extractor.tagging import default_tagger  # noqa: E402

PAGES = ROOT.parent / "shared" / "data" / "articles" / "scrapinghub_aeb" / "html"

WIRE = (
    "Egyptian warplanes struck camps of the Mujahideen Shura Council near Derna on Friday, "
    "killing at least five fighters, a military spokesman said. Gunmen attacked a police "
    "checkpoint in the Masaeed district of Arish late on Sunday, sparking a gunfight in which "
    "two policemen and four of the attackers were killed. A roadside bomb tore through an "
    "armoured vehicle south of Sheikh Zuweid on Tuesday, leaving three soldiers dead and seven "
    "injured. Hundreds of protesters rallied in Khartoum and Omdurman, and police fired tear gas "
    "to disperse them. Haftar's Libyan National Army said it had regained control of Ganfouda "
    "in Benghazi after heavy fighting with the Benghazi Revolutionaries Shura Council. Border "
    "guards foiled an attempt to smuggle weapons across the border near Salloum, seizing rifles "
    "and ammunition. Islamic State's Sinai Province claimed responsibility for the attack. "
)


def _median_ms(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, default=PAGES)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tagger = default_tagger()  # loading is a one-off, not part of the per-article cost
    tagger.tag("warm up: an airstrike hit Derna on Friday, killing five.")

    words = WIRE.split()
    article = " ".join((words * (800 // len(words) + 1))[:800])
    ms = _median_ms(lambda: tagger.tag(article), args.repeat * 4)
    print(f"synthetic 800-word wire article: tag {ms:.2f} ms")

    if not args.pages.is_dir():
        print(f"pages not found at {args.pages}: skipping the comparison with trafilatura")
        return 0
    import trafilatura

    ratios, tag800, ext = [], [], []
    for page in sorted(args.pages.glob("*.html"))[:60]:
        html = page.read_text("utf-8", errors="replace")
        text = trafilatura.extract(html) or ""
        n = len(text.split())
        if n < 100:
            continue
        t_ext = _median_ms(lambda html=html: trafilatura.extract(html), args.repeat)
        t_tag = _median_ms(lambda text=text: tagger.tag(text), args.repeat)
        ratios.append(t_tag / t_ext)
        tag800.append(t_tag * 800 / n)
        ext.append(t_ext)
    if not ratios:
        print("no usable pages")
        return 0
    print(f"{len(ratios)} real pages: trafilatura.extract median {statistics.median(ext):.1f} ms")
    print(f"tag per 800 words: median {statistics.median(tag800):.2f} ms")
    print(
        f"ratio tag/extract: median {statistics.median(ratios):.3f}, "
        f"max {max(ratios):.3f} (budget 0.30)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
