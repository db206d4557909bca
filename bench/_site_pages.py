"""Article pages with the weight of a real news site's, for the benches that download and extract.

A story's own markup is a few kilobytes; what a news site serves around it is a hundred: inline
CSS and JavaScript configuration, a JSON-LD block, a mega-menu of every section, a cookie banner,
share buttons, ad slots between paragraphs, related-story cards, a comment thread, a most-read
list, a newsletter form and a footer of links. Trafilatura's cost grows with that markup (the
Article Extraction Benchmark's real pages in ``../shared/data`` weigh about 110 KB at the median
and cost ~20 ms each to extract, a bare 2 KB page ~1 ms), so a pipeline bench on bare pages
would measure everything but the stage operators actually scale. Every word here is generated
or comes from the demo newsroom written for this project.
"""

from __future__ import annotations

import html
import json
import random

__all__ = ["SECTIONS", "news_site_page"]

SECTIONS = (
    "World",
    "Region",
    "Politics",
    "Security",
    "Economy",
    "Business",
    "Energy",
    "Science",
    "Health",
    "Culture",
    "Sport",
    "Opinion",
    "Video",
    "Podcasts",
    "Weather",
)
_SUBSECTIONS = (
    "North Africa",
    "Sahel",
    "Horn of Africa",
    "Levant",
    "Gulf",
    "Elections",
    "Courts",
    "Markets",
    "Oil and gas",
    "Agriculture",
    "Transport",
    "Football",
    "Athletics",
    "Books",
    "Film",
    "Analysis",
)
_COMMENTERS = ("Amira_K", "desert_fox", "N. Haddad", "observer77", "Salma B.", "tarek.m", "Youssef")
_COMMENT_OPENERS = (
    "This is the third time this year.",
    "Where is the government in all this?",
    "My thoughts are with the families.",
    "The report leaves out what happened before.",
    "Good reporting, as usual.",
    "Nobody talks about the border towns until something like this happens.",
)


def _css(rng: random.Random, rules: int) -> str:
    out = []
    for n in range(rules):
        selector = f".c-{rng.choice(SECTIONS).lower()}-{n} .item__{rng.randint(1, 99)}"
        out.append(
            f"{selector}{{margin:{rng.randint(0, 24)}px {rng.randint(0, 24)}px;"
            f"color:#{rng.randint(0, 0xFFFFFF):06x};font-size:{rng.randint(11, 22)}px;"
            f"line-height:1.{rng.randint(2, 6)}}}"
        )
    return "".join(out)


def _config_script(rng: random.Random, entries: int) -> str:
    config = {
        "site": {"edition": "intl", "sections": list(SECTIONS)},
        "ads": [
            {
                "slot": f"ad-{n}",
                "sizes": [[300, 250], [728, 90]],
                "targeting": {"kw": rng.sample(_SUBSECTIONS, 3), "pos": n},
            }
            for n in range(entries)
        ],
        "experiments": {f"exp_{n}": rng.random() < 0.5 for n in range(entries)},
    }
    return json.dumps(config, separators=(",", ":"))


def _menu() -> str:
    items = []
    for section in SECTIONS:
        subs = "".join(
            f'<li class="menu__sub-item"><a class="menu__link" '
            f'href="/{section.lower()}/{sub.lower().replace(" ", "-")}">{sub}</a></li>'
            for sub in _SUBSECTIONS[: 4 + len(section) % 5]
        )
        items.append(
            f'<li class="menu__item"><a class="menu__link" href="/{section.lower()}">{section}</a>'
            f'<ul class="menu__sub">{subs}</ul></li>'
        )
    links = "".join(items)
    return f'<nav class="menu" aria-label="Sections"><ul class="menu__list">{links}</ul></nav>'


def _card(rng: random.Random, headline: str, teaser: str, number: int) -> str:
    return (
        f'<div class="card card--{rng.choice(("small", "medium"))}" data-id="{number}">'
        f'<a class="card__link" href="/news/{number}.html"><div class="card__media">'
        f'<img src="/img/{number}.jpg" alt="" loading="lazy" width="320" height="180"></div>'
        f'<div class="card__body"><span class="card__kicker">{rng.choice(SECTIONS)}</span>'
        f'<h3 class="card__title">{html.escape(headline)}</h3>'
        f'<p class="card__teaser">{html.escape(teaser[:140])}</p></div></a></div>'
    )


def news_site_page(
    title: str,
    paragraphs: list[str],
    headlines: list[str],
    teasers: list[str],
    rng: random.Random,
    *,
    site: str = "Bench Wire",
    published: str = "2024-05-02T09:00:00+02:00",
) -> bytes:
    """One article page of about 60 KB around ``paragraphs`` (the story)."""
    esc_title = html.escape(title)
    body = []
    for n, paragraph in enumerate(paragraphs):
        body.append(f"<p>{html.escape(paragraph)}</p>")
        if n == 1:
            body.append(
                f'<div class="read-also"><strong>Read also:</strong> <a href="/news/'
                f'{rng.randint(1, 9999)}.html">{html.escape(rng.choice(headlines))}</a></div>'
            )
        if n % 3 == 2:
            body.append(
                f'<div class="ad ad--inline" id="ad-inline-{n}" data-slot="inline-{n}">'
                f'<span class="ad__label">Advertisement</span></div>'
            )
    related = "".join(
        _card(rng, rng.choice(headlines), rng.choice(teasers), rng.randint(1, 99999))
        for _ in range(10)
    )
    most_read = "".join(
        f'<li class="most-read__item"><span class="most-read__rank">{n + 1}</span>'
        f'<a href="/news/{rng.randint(1, 99999)}.html">'
        f"{html.escape(rng.choice(headlines))}</a></li>"
        for n in range(10)
    )
    comments = "".join(
        f'<li class="comment" id="comment-{n}"><div class="comment__meta">'
        f'<span class="comment__author">{rng.choice(_COMMENTERS)}</span> '
        f'<time class="comment__time">{rng.randint(1, 59)} minutes ago</time></div>'
        f'<p class="comment__text">{html.escape(rng.choice(_COMMENT_OPENERS))} '
        f"{html.escape(rng.choice(teasers)[:160])}</p>"
        f'<div class="comment__actions"><button>Reply</button> <button>Like</button> '
        f"<button>Report</button></div></li>"
        for n in range(rng.randint(4, 9))
    )
    footer_links = "".join(
        f'<li><a href="/{section.lower()}/{sub.lower().replace(" ", "-")}">'
        f"{section}: {sub}</a></li>"
        for section in SECTIONS
        for sub in _SUBSECTIONS[:3]
    )
    share = "".join(
        f'<a class="share__button share__button--{net}" href="https://share.example/{net}" '
        f'rel="noopener" aria-label="Share on {net}"><svg viewBox="0 0 24 24" width="20" '
        f'height="20"><path d="M{rng.randint(1, 9)} {rng.randint(1, 9)}h8v8H4z"/></svg></a>'
        for net in ("facebook", "x", "whatsapp", "telegram", "linkedin", "email")
    )
    json_ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": title,
            "datePublished": published,
            "author": {"@type": "Person", "name": "Bench Desk"},
            "publisher": {"@type": "Organization", "name": site},
        }
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc_title} | {site}</title>
<meta name="description" content="{html.escape(paragraphs[0][:150])}">
<meta property="og:title" content="{esc_title}"><meta property="og:type" content="article">
<meta property="og:site_name" content="{site}"><meta name="author" content="Bench Desk">
<meta property="article:published_time" content="{published}">
<link rel="preload" href="/fonts/serif.woff2" as="font" crossorigin>
<link rel="stylesheet" href="/css/main.css">
<style>{_css(rng, 260)}</style>
<script>window.__CONFIG__={_config_script(rng, 60)};</script>
<script type="application/ld+json">{json_ld}</script>
</head>
<body class="page page--article">
<div class="cookie-banner" role="dialog"><p>We use cookies to measure our audience and show you
relevant advertising. You can change your choices at any time.</p>
<button>Accept all</button> <button>Reject all</button> <a href="/privacy">Settings</a></div>
<header class="site-header"><a class="logo" href="/">{site}</a>
<form class="search" action="/search"><input name="q" placeholder="Search">
<button>Go</button></form>
{_menu()}</header>
<div class="ad ad--leaderboard" id="ad-top"><span class="ad__label">Advertisement</span></div>
<main class="layout"><article class="story">
<ol class="breadcrumb"><li><a href="/">Home</a></li><li><a href="/region">Region</a></li>
<li><a href="/region/north-africa">North Africa</a></li></ol>
<h1 class="story__title">{esc_title}</h1>
<p class="story__byline">By <a rel="author" href="/authors/desk">Bench Desk</a>,
<time datetime="{published}">2 May 2024</time></p>
<div class="share">{share}</div>
<figure class="story__figure"><img src="/img/lead.jpg" alt="" width="1200" height="675">
<figcaption>File photo. Credit: {site}</figcaption></figure>
<div class="story__body">{"".join(body)}</div>
<div class="share share--bottom">{share}</div>
<section class="comments"><h2>Comments</h2><ol>{comments}</ol></section>
</article>
<aside class="rail"><section class="most-read"><h2>Most read</h2><ol>{most_read}</ol></section>
<section class="newsletter"><h2>Morning briefing</h2><form action="/newsletter">
<input type="email" name="email" placeholder="Your email"><button>Sign up</button></form></section>
</aside></main>
<section class="related"><h2>More from {site}</h2><div class="cards">{related}</div></section>
<footer class="site-footer"><ul class="footer__links">{footer_links}</ul>
<p>&copy; 2024 {site}. All rights reserved.</p></footer>
<script>window.__CONFIG__.ready=true;</script>
</body></html>"""
    return page.encode("utf-8")
