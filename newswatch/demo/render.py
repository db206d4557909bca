"""HTML pages of the newsroom: article pages (and AMP variants), outlet home pages, the index.

The pages are deliberately noisy, like real news sites: a header with a navigation menu and a
breaking-news ticker, a breadcrumb, "read also" and "related stories" links whose headlines are
full of event words, reader comments, a newsletter box, a cookie-consent banner and a footer. The
extractor has to find the story among all that. Three templates (``modern``, ``classic``,
``portal``) give the extractor different markup to cope with; some outlets add a JSON-LD
``NewsArticle`` block and one links an AMP variant.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from html import escape

from newswatch.demo.content import Article, Newsroom, Outlet
from newswatch.demo.schedule import Timeline

__all__ = [
    "ArticleView",
    "article_path",
    "render_amp_page",
    "render_article_page",
    "render_index_page",
    "render_outlet_home",
    "view_of",
]

_COMMENTERS = (
    "Ahmed K.",
    "Fatima",
    "Oumar D.",
    "Salma_88",
    "Youssef",
    "Aïcha T.",
    "reader from Tripoli",
    "Hassan M.",
    "Mariam",
    "Ibrahim S.",
    "Nour",
    "Abdoulaye",
)
_COMMENTS = (
    "Thank you for reporting this, nobody else covers our region.",
    "My thoughts are with the families.",
    "Why does it always take days before we hear anything official?",
    "The road from the town is still closed, my cousin says.",
    "Good article but the photo is from last year.",
    "We need schools and jobs, not only statements.",
    "Please write more about the people who live there.",
    "Is there any update on the situation this morning?",
    "I travelled this route many times, it was never like this before.",
    "Where are the authorities? Every week the same story.",
    "Excellent report, clear and balanced.",
    "Can you correct the spelling of the village name?",
    "The prices in the market have doubled this month.",
    "God protect everyone there.",
)
_WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class ArticleView:
    """An article as its outlet shows it: dated, placed at a URL, placeholders filled."""

    article: Article
    outlet: Outlet
    published: dt.datetime  # in the outlet's time zone
    path: str
    url: str
    paragraphs: tuple[str, ...]
    summary: str

    @property
    def amp_path(self) -> str:
        return f"/{self.outlet.id}/amp{self.path[len(self.outlet.id) + 1 :]}"

    @property
    def image_path(self) -> str:
        return f"/{self.outlet.id}/media/{self.article.slug}.png"


def article_path(outlet: Outlet, article: Article, published: dt.datetime) -> str:
    """``/<outlet>/<yyyy>/<mm>/<slug>.html`` from the local publication date."""
    local = published.astimezone(outlet.tz)
    return f"/{outlet.id}/{local.year:04d}/{local.month:02d}/{article.slug}.html"


def view_of(article: Article, newsroom: Newsroom, timeline: Timeline, base_url: str) -> ArticleView:
    """Date and place ``article`` according to ``timeline`` under ``base_url``."""
    outlet = newsroom.outlet(article.outlet)
    published = timeline.published_at(article).astimezone(outlet.tz)
    path = article_path(outlet, article, published)
    return ArticleView(
        article=article,
        outlet=outlet,
        published=published,
        path=path,
        url=base_url.rstrip("/") + path,
        paragraphs=tuple(article.paragraphs(published)),
        summary=article.summary_text(published),
    )


def _pick(seed: str, options: tuple[str, ...], count: int) -> list[str]:
    """``count`` distinct options chosen deterministically from ``seed``."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    chosen: list[str] = []
    for byte in digest:
        option = options[byte % len(options)]
        if option not in chosen:
            chosen.append(option)
        if len(chosen) == count:
            break
    return chosen


def _human_date(when: dt.datetime) -> str:
    return (
        f"{_WEEKDAY_ABBR[when.weekday()]} {when.day} {_MONTH_ABBR[when.month - 1]} {when.year}, "
        f"{when.hour:02d}:{when.minute:02d}"
    )


def _site_title(outlet: Outlet) -> str:
    if outlet.native_name:
        return f"{outlet.name} | {outlet.native_name}"
    return outlet.name


def _head(outlet: Outlet, title: str, extra: str = "") -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(outlet.language)}">\n<head>\n'
        f'<meta charset="{escape(outlet.encoding)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f'<link rel="alternate" type="application/rss+xml" title="{escape(outlet.name)}" '
        f'href="/{outlet.id}/{escape(outlet.feed_path)}">\n'
        f'<link rel="stylesheet" href="/{outlet.id}/static/site.css">\n'
        f"{extra}</head>\n"
    )


def _nav(outlet: Outlet) -> str:
    items = "".join(
        f'<li><a href="/{outlet.id}/section/{escape(_slugify(s))}/">{escape(s)}</a></li>'
        for s in outlet.sections
    )
    return (
        f'<ul class="menu"><li><a href="/{outlet.id}/">Home</a></li>{items}'
        '<li><a href="#">Podcasts</a></li><li><a href="#">Subscribe</a></li></ul>'
    )


def _slugify(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _cookie_banner() -> str:
    return (
        '<div id="cookie-consent" class="cookie-banner" role="dialog">'
        "<p>We use cookies to improve your experience, to analyse our traffic and to show you "
        "relevant advertising. By clicking Accept you agree to our use of cookies as described "
        'in our <a href="#">cookie policy</a>.</p>'
        '<button type="button" class="accept">Accept all</button> '
        '<button type="button" class="settings">Manage settings</button></div>\n'
    )


def _footer(outlet: Outlet, year: int) -> str:
    return (
        '<footer class="site-footer"><div class="footer-links">'
        '<a href="#">About us</a> | <a href="#">Contact</a> | <a href="#">Advertise</a> | '
        '<a href="#">Terms of use</a> | <a href="#">Privacy policy</a></div>'
        f"<p>{escape(outlet.description)}</p>"
        f"<p>&copy; {year} {escape(outlet.name)}, {escape(outlet.city)}. All rights reserved. "
        "Reproduction without written permission is prohibited.</p>"
        '<p class="social">Follow us: <a href="#">Facebook</a> <a href="#">X</a> '
        '<a href="#">Telegram</a> <a href="#">WhatsApp channel</a></p></footer>\n'
    )


def _breadcrumb(view: ArticleView) -> str:
    section = view.article.section
    return (
        '<nav class="breadcrumb" aria-label="breadcrumb"><ol>'
        f'<li><a href="/{view.outlet.id}/">Home</a></li>'
        f'<li><a href="/{view.outlet.id}/section/{escape(_slugify(section))}/">'
        f"{escape(section)}</a></li>"
        f"<li>{escape(view.article.headline)}</li></ol></nav>\n"
    )


def _related(related: list[ArticleView], heading: str = "Related stories") -> str:
    if not related:
        return ""
    items = "".join(
        f'<li><a href="{escape(r.path)}">{escape(r.article.headline)}</a>'
        f' <span class="date">{escape(_human_date(r.published))}</span></li>'
        for r in related
    )
    return f'<section class="related"><h2>{escape(heading)}</h2><ul>{items}</ul></section>\n'


def _comments(view: ArticleView) -> str:
    seed = view.article.key
    count = 2 + hashlib.sha256(seed.encode()).digest()[0] % 2
    names = _pick(seed + "/names", _COMMENTERS, count)
    texts = _pick(seed + "/texts", _COMMENTS, count)
    items = []
    for index, (name, text) in enumerate(zip(names, texts, strict=True)):
        when = view.published + dt.timedelta(minutes=17 + 23 * index)
        items.append(
            f'<li class="comment" id="comment-{index + 1}"><div class="comment-meta">'
            f'<span class="comment-author">{escape(name)}</span> '
            f'<time datetime="{when.isoformat()}">{escape(_human_date(when))}</time></div>'
            f'<div class="comment-body"><p>{escape(text)}</p></div>'
            '<a class="reply" href="#">Reply</a></li>'
        )
    return (
        f'<section id="comments" class="comments"><h2>{len(items)} comments</h2>'
        f'<ol class="comment-list">{"".join(items)}</ol>'
        '<form class="comment-form"><label>Leave a comment</label><textarea></textarea>'
        '<button type="submit">Post comment</button></form></section>\n'
    )


def _json_ld(view: ArticleView) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": view.article.headline,
        "description": view.summary,
        "datePublished": view.published.isoformat(),
        "dateModified": view.published.isoformat(),
        "author": {"@type": "Person", "name": view.article.author},
        "publisher": {"@type": "Organization", "name": view.outlet.name},
        "mainEntityOfPage": {"@type": "WebPage", "@id": view.url},
        "articleSection": view.article.section,
        "inLanguage": view.outlet.language,
    }
    if view.outlet.media:
        data["image"] = [view.url.rsplit(view.path, 1)[0] + view.image_path]
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>\n'


def _meta(view: ArticleView) -> str:
    parts = [
        f'<meta name="description" content="{escape(view.summary)}">',
        f'<meta name="author" content="{escape(view.article.author)}">',
        f'<link rel="canonical" href="{escape(view.url)}">',
        f'<meta property="og:title" content="{escape(view.article.headline)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:url" content="{escape(view.url)}">',
        f'<meta property="og:site_name" content="{escape(view.outlet.name)}">',
        f'<meta property="article:published_time" content="{view.published.isoformat()}">',
        f'<meta property="article:section" content="{escape(view.article.section)}">',
    ]
    if view.outlet.amp:
        parts.append(f'<link rel="amphtml" href="{escape(view.amp_path)}">')
    head = "\n".join(parts) + "\n"
    if view.outlet.json_ld:
        head += _json_ld(view)
    return head


def _byline(view: ArticleView) -> str:
    return (
        f'<div class="byline">By <span class="author" rel="author">'
        f"{escape(view.article.author)}</span> | "
        f'<time datetime="{view.published.isoformat()}" class="published">'
        f"{escape(_human_date(view.published))}</time></div>\n"
    )


def _body(view: ArticleView, read_also: ArticleView | None) -> str:
    paragraphs = [f"<p>{escape(p)}</p>" for p in view.paragraphs]
    if read_also is not None and len(paragraphs) > 2:
        paragraphs.insert(
            2,
            f'<p class="read-also"><strong>Read also:</strong> <a href="{escape(read_also.path)}">'
            f"{escape(read_also.article.headline)}</a></p>",
        )
    if view.article.syndicated_from:
        paragraphs.append(
            '<p class="syndication-credit"><em>This story was distributed by Sahara Wire '
            "Service.</em></p>"
        )
    return "\n".join(paragraphs) + "\n"


def _figure(view: ArticleView) -> str:
    if not view.outlet.media:
        return ""
    return (
        f'<figure class="lead-image"><img src="{escape(view.image_path)}" width="16" height="9" '
        f'alt="{escape(view.article.headline)}"><figcaption>File photo. '
        f"({escape(view.outlet.name)})</figcaption></figure>\n"
    )


def _ticker(outlet: Outlet, latest: list[ArticleView]) -> str:
    if not latest:
        return ""
    items = " &bull; ".join(
        f'<a href="{escape(v.path)}">{escape(v.article.headline)}</a>' for v in latest[:4]
    )
    return f'<div class="ticker"><span class="label">Latest</span> {items}</div>\n'


def _newsletter() -> str:
    return (
        '<div class="newsletter"><h3>Get the morning briefing</h3>'
        "<p>The day's top stories in your inbox before 7am.</p>"
        '<form><input type="email" placeholder="Your email"><button>Sign up</button></form>'
        "</div>\n"
    )


def render_article_page(
    view: ArticleView,
    related: list[ArticleView],
    latest: list[ArticleView],
) -> str:
    """The full HTML page of one article in its outlet's template.

    ``related`` are a few earlier stories of the same outlet, ``latest`` the newest ones (for the
    ticker and the "most read" box).
    """
    outlet = view.outlet
    # Only the portal template splices a "Read also" link into the story, as many portals do: the
    # extractor keeps it, so the tagger meets another story's headline inside the text.
    read_also = related[0] if related and outlet.template == "portal" else None
    title = f"{view.article.headline} | {outlet.name}"
    head = _head(outlet, title, _meta(view))
    year = view.published.year
    if outlet.template == "classic":
        body = (
            '<body class="single">\n<div id="wrapper">\n'
            f'<div id="top"><div id="logo"><a href="/{outlet.id}/">{escape(_site_title(outlet))}'
            f'</a></div><div id="date-line">{escape(outlet.city)}</div></div>\n'
            f'<div id="menu">{_nav(outlet)}</div>\n'
            f"{_breadcrumb(view)}"
            '<div id="content"><div class="post">\n'
            f'<h1 class="title">{escape(view.article.headline)}</h1>\n'
            f"{_byline(view)}"
            f'<div class="entry">\n{_body(view, read_also)}</div>\n'
            '<div class="post-tags">Filed under: '
            f'<a href="/{outlet.id}/section/{escape(_slugify(view.article.section))}/">'
            f"{escape(view.article.section)}</a></div>\n"
            "</div>\n"
            f"{_related(related)}{_comments(view)}</div>\n"
            f'<div id="sidebar">{_related(latest, "Most read")}{_newsletter()}</div>\n'
            f"{_footer(outlet, year)}</div>\n{_cookie_banner()}</body>\n</html>\n"
        )
    elif outlet.template == "portal":
        body = (
            '<body class="article-page">\n'
            '<div class="top-bar"><a href="#">e-Paper</a> <a href="#">Archive</a> '
            '<a href="#">Log in</a></div>\n'
            f'<header class="masthead"><a class="brand" href="/{outlet.id}/">'
            f"{escape(_site_title(outlet))}</a>"
            '<form class="search" action="#"><input name="q" placeholder="Search"></form>'
            f'</header>\n<nav class="primary-nav">{_nav(outlet)}</nav>\n'
            f"{_ticker(outlet, latest)}"
            '<div class="ad-slot leaderboard">Advertisement</div>\n'
            f'<div class="container">{_breadcrumb(view)}'
            '<div class="article-wrap" itemscope itemtype="https://schema.org/NewsArticle">\n'
            f'<h1 itemprop="headline">{escape(view.article.headline)}</h1>\n'
            f"{_byline(view)}"
            '<div class="share-buttons"><a href="#">Share</a> <a href="#">Tweet</a> '
            '<a href="#">WhatsApp</a> <a href="#">Print</a></div>\n'
            f'<div class="article-content" itemprop="articleBody">\n{_body(view, read_also)}'
            "</div>\n</div>\n"
            '<div class="ad-slot in-article">Advertisement</div>\n'
            f"{_related(related, 'More on this story')}{_comments(view)}"
            f'<aside class="sidebar">{_related(latest, "Most read")}{_newsletter()}</aside>'
            f"</div>\n{_footer(outlet, year)}{_cookie_banner()}</body>\n</html>\n"
        )
    else:
        body = (
            '<body>\n<header class="site-header">'
            f'<a class="logo" href="/{outlet.id}/">{escape(_site_title(outlet))}</a>'
            f'<nav class="main-nav">{_nav(outlet)}</nav></header>\n'
            f"{_ticker(outlet, latest)}"
            f"<main>{_breadcrumb(view)}"
            '<article class="story">\n'
            f'<header><h1 class="story-title">{escape(view.article.headline)}</h1>\n'
            f"{_byline(view)}</header>\n{_figure(view)}"
            f'<div class="story-body">\n{_body(view, read_also)}</div>\n'
            '<ul class="story-tags">'
            + "".join(f"<li>{escape(t)}</li>" for t in view.article.tags[:3])
            + "</ul>\n</article>\n"
            f"{_related(related)}{_newsletter()}{_comments(view)}</main>\n"
            f'<aside class="most-read">{_related(latest, "Most read")}</aside>\n'
            f"{_footer(outlet, year)}{_cookie_banner()}</body>\n</html>\n"
        )
    return head + body


def render_amp_page(view: ArticleView) -> str:
    """A minimal AMP variant of an article page, pointing back at the canonical page."""
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in view.paragraphs)
    return (
        "<!doctype html>\n"
        f'<html amp lang="{escape(view.outlet.language)}">\n<head>\n'
        f'<meta charset="{escape(view.outlet.encoding)}">\n'
        '<script async src="https://cdn.ampproject.org/v0.js"></script>\n'
        f"<title>{escape(view.article.headline)}</title>\n"
        f'<link rel="canonical" href="{escape(view.url)}">\n'
        '<meta name="viewport" content="width=device-width">\n'
        "<style amp-boilerplate>body{visibility:visible}</style>\n</head>\n<body>\n"
        f'<header><a href="/{view.outlet.id}/">{escape(view.outlet.name)}</a></header>\n'
        f"<article><h1>{escape(view.article.headline)}</h1>\n{_byline(view)}{paragraphs}\n"
        "</article>\n"
        f"<footer>&copy; {view.published.year} {escape(view.outlet.name)}</footer>\n"
        "</body>\n</html>\n"
    )


def render_outlet_home(outlet: Outlet, latest: list[ArticleView], feed_url: str) -> str:
    """The outlet's front page: its released stories, newest first."""
    items = "".join(
        f'<li><a href="{escape(v.path)}">{escape(v.article.headline)}</a> '
        f'<span class="date">{escape(_human_date(v.published))}</span>'
        f"<p>{escape(v.summary)}</p></li>"
        for v in latest
    )
    year = latest[0].published.year if latest else 2026
    return (
        _head(outlet, _site_title(outlet))
        + f'<body class="home">\n<header><h1>{escape(_site_title(outlet))}</h1>'
        f"<nav>{_nav(outlet)}</nav></header>\n"
        f'<main><p class="feed-link"><a href="{escape(feed_url)}">Subscribe to our feed</a></p>'
        f'<ul class="headlines">{items}</ul></main>\n'
        f"{_footer(outlet, year)}{_cookie_banner()}</body>\n</html>\n"
    )


def render_index_page(rows: list[dict[str, str]]) -> str:
    """The newsroom's index (``/``): one row per outlet with its feed."""
    body = "".join(
        "<tr>"
        f'<td><a href="/{escape(r["id"])}/">{escape(r["name"])}</a></td>'
        f"<td>{escape(r['country'])}</td><td>{escape(r['format'])}</td>"
        f"<td>{escape(r['encoding'])}</td>"
        f'<td><a href="{escape(r["url"])}">{escape(r["url"])}</a></td>'
        f"<td>{escape(r['articles'])}</td></tr>"
        for r in rows
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        "<title>newswatch demo newsroom</title></head>\n<body>\n"
        "<h1>newswatch demo newsroom</h1>\n"
        "<p>Invented outlets serving invented stories for the offline demo.</p>\n"
        "<table><thead><tr><th>Outlet</th><th>Country</th><th>Feed format</th>"
        "<th>Encoding</th><th>Feed</th><th>Articles online</th></tr></thead>\n"
        f"<tbody>{body}</tbody></table>\n</body>\n</html>\n"
    )
