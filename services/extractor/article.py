"""Assembling the ``news.articles`` record from what each step produced (pure functions).

The discovered item supplies identity and the feed's view (article_id always stays the one from
discovery: the page's own canonical URL is only recorded); the page supplies the status; the
extraction supplies text and metadata, each field falling back to the feed's value when the page
has none; the tagger's answer is copied in, or its error recorded.
"""

from __future__ import annotations

from newswatch.models.events import TaggingResult
from newswatch.models.messages import Article, DiscoveredItem
from services.extractor.download import FetchedPage
from services.extractor.extract import Extraction

__all__ = ["apply_tagging", "build_article", "tagging_input"]


def build_article(
    item: DiscoveredItem,
    page: FetchedPage | None,
    extraction: Extraction | None,
) -> Article:
    """The article for ``item`` (tagging and duplicate marks are added later).

    ``page`` is None only when the caller failed before downloading; ``extraction`` is None when
    the page was not extractable (not HTML, too large, HTTP error).
    """
    article = Article(
        article_id=item.article_id,
        url=item.url,
        canonical_url=item.canonical_url,
        feed_id=item.feed_id,
        feed_url=item.feed_url,
        source=item.source,
        title=item.title,
        summary=item.summary,
        language=item.source.language,
        published_at=item.published_at,
        discovered_at=item.discovered_at,
    )
    if page is not None and page.status != "ok":
        article.extraction_status = page.status
        article.extraction_error = page.error
        return article
    if extraction is None:
        article.extraction_status = "failed"
        article.extraction_error = "the page was not extracted"
        return article
    if extraction.status != "ok":
        article.extraction_status = extraction.status
        article.extraction_error = extraction.error
    article.text = extraction.text
    article.title = extraction.title or item.title
    article.authors = list(extraction.authors)
    article.language = extraction.language or item.source.language
    article.sitename = extraction.sitename or item.source.name
    article.published_at = extraction.published_at or item.published_at
    article.page_canonical_url = extraction.page_canonical_url
    article.word_count = extraction.word_count
    article.content_hash = extraction.content_hash
    return article


def tagging_input(article: Article) -> str:
    """What the tagger reads: the article text, or the feed's teaser when there is no text."""
    if article.text.strip():
        return article.text
    return article.summary


def apply_tagging(article: Article, result: TaggingResult | None, error: str | None) -> None:
    """Copy the tagger's answer into the article, or record why there is none."""
    if error is not None:
        article.tagging_error = error
        return
    if result is None:
        return
    if result.error:
        article.tagging_error = result.error
    article.events = list(result.events)
    article.places = list(result.places)
    article.actors = list(result.actors)
    article.tags = list(result.tags)
