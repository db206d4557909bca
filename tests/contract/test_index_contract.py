"""The index contract (``services/indexer/index.py``), run against every implementation."""

from __future__ import annotations

import datetime as dt

from newswatch.models.messages import Article
from services.indexer.document import alert_document, article_document
from services.indexer.index import Bucket, Index
from tests.data.search_corpus import corpus, slug_of
from tests.factories import alert_delivery

ARTICLES = corpus()
SLUGS = slug_of(ARTICLES)
BY_SLUG = {SLUGS[a.article_id]: a for a in ARTICLES}
INDEXED_AT = dt.datetime(2024, 4, 5, tzinfo=dt.UTC)


def doc(article: Article) -> dict[str, object]:
    return article_document(article, indexed_at=INDEXED_AT)


def load(index: Index, articles: list[Article] = ARTICLES) -> None:
    report = index.upsert_many([doc(a) for a in articles])
    assert report.failures == [] and report.written == len(articles)
    index.refresh()


def test_get_returns_the_document_as_written(index: Index) -> None:
    article = BY_SLUG["sinai-raid"]
    load(index, [article])
    assert index.get(article.article_id) == doc(article)
    assert index.get("0" * 32) is None


def test_upsert_is_idempotent_on_article_id(index: Index) -> None:
    article = BY_SLUG["derna-airstrike"]
    load(index, [article])
    changed = article.model_copy(update={"title": "Drone strike near Derna: toll rises"})
    load(index, [changed, changed])
    assert index.count() == 1
    stored = index.get(article.article_id)
    assert stored is not None and stored["title"] == "Drone strike near Derna: toll rises"
    assert index.count("toll") == 1 and index.count("militant") == 0


def test_bad_documents_are_reported_and_the_rest_written(index: Index) -> None:
    good = doc(BY_SLUG["gao-attack"])
    report = index.upsert_many([{"title": "no id"}, good])
    index.refresh()
    assert report.written == 1
    assert [reason for _, reason in report.failures] == ["document has no article_id"]
    assert index.count() == 1


def test_delete_removes_and_ignores_unknown_ids(index: Index) -> None:
    load(index, ARTICLES[:3])
    removed = index.delete([ARTICLES[0].article_id, "f" * 32])
    index.refresh()
    assert removed == 1
    assert index.count() == 2 and index.get(ARTICLES[0].article_id) is None
    assert index.count("Derna AND airstrike") == 0


def test_newest_and_oldest_sort_with_undated_last(index: Index) -> None:
    load(index)
    newest = [SLUGS[h.article_id] for h in index.search(sort="newest", size=100).hits]
    oldest = [SLUGS[h.article_id] for h in index.search(sort="oldest", size=100).hits]
    assert newest[:2] == ["april-strike", "niger-quote"] and newest[-1] == "undated-wire"
    assert oldest[:2] == ["feb-end", "march-start"] and oldest[-1] == "undated-wire"
    assert len(newest) == len(ARTICLES)


def test_pagination_and_exact_total(index: Index) -> None:
    load(index)
    query = "country:LY"
    everything = [h.article_id for h in index.search(query, sort="newest", size=100).hits]
    page = index.search(query, sort="newest", offset=3, size=4)
    assert page.total == len(everything) == 12
    assert [h.article_id for h in page.hits] == everything[3:7]
    assert index.search(query, size=0).hits == []


def test_relevance_ranks_title_matches_and_reports_scores(index: Index) -> None:
    load(index)
    result = index.search("smuggling", size=10)
    assert result.hits and all(h.score is not None and h.score > 0 for h in result.hits)
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert SLUGS[result.hits[0].article_id] in {"benghazi-arrests", "salloum-smuggling"}


def test_snippets_highlight_matches_or_fall_back_to_the_summary(index: Index) -> None:
    load(index)
    hit = index.search('"roadside bomb" AND country:EG', highlight=("[", "]")).hits[0]
    assert SLUGS[hit.article_id] in {"sinai-ied", "sinai-ied-2"}
    assert "[roadside]" in hit.snippet.lower() or "[roadside bomb]" in hit.snippet.lower()
    plain = index.search('place:rafah AND source:"cairo courier" AND -crossing', size=10)
    by_slug = {SLUGS[h.article_id]: h.snippet for h in plain.hits}
    assert by_slug["no-text"] == "Video report from Rafah."
    assert by_slug["sinai-ied-2"].startswith("Another improvised explosive device")


def test_hits_leave_out_the_long_text(index: Index) -> None:
    load(index, [BY_SLUG["khartoum-clash"]])
    hit = index.search("khartoum").hits[0]
    assert "text" not in hit.document and hit.document["title"] == "Fighting resumes in Khartoum"
    assert hit.document["events"][0]["location"]["name"] == "Khartoum"


def test_facets_count_articles(index: Index) -> None:
    load(index)
    facets = index.facets("fatalities:>=10 OR country:ML")
    # sinai-raid counts for both types (a clash and a recalled suicide bombing).
    assert facets.event_types == [
        Bucket("Explosions/Remote violence", 5),
        Bucket("Battles", 4),
        Bucket("Violence against civilians", 1),
    ]
    assert facets.countries == [Bucket("SD", 3), Bucket("LY", 2), Bucket("ML", 2), Bucket("EG", 1)]
    assert facets.days[0] == Bucket("2024-03-07", 1) and facets.days[-1] == Bucket("2024-04-02", 1)
    assert sum(b.count for b in facets.days) == 8


def test_search_facets_match_the_facets_call(index: Index) -> None:
    load(index)
    result = index.search("Derna", facets=True, size=1)
    assert result.facets == index.facets("Derna")
    assert result.total == 6 and len(result.hits) == 1


def test_alert_delivery_log(index: Index) -> None:
    first = alert_delivery(status="retrying", attempts=1)
    second = alert_delivery(
        status="delivered", attempts=2, created_at=first.created_at + dt.timedelta(minutes=1)
    )
    docs = [alert_document(first), alert_document(second), alert_document(second)]
    assert index.upsert_alerts(docs).written == 3
    index.refresh()
    log = index.alerts(article_id=first.article_id)
    assert [d["status"] for d in log] == ["delivered", "retrying"]
    assert index.alerts(article_id="0" * 32) == []
