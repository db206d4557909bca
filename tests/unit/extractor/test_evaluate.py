"""``python -m services.extractor.evaluate`` on a tiny gold folder written for this test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import html

from services.extractor.evaluate import main, score

PAGES = Path(__file__).resolve().parents[2] / "data" / "extractor" / "pages"
#: page -> XPath of the paragraphs that make its gold body
GOLD = {
    "article.html": "//div[@class='story-body']/p",
    "amp.html": "//div[@class='article-body']/p",
    "jsonld.html": "//div[@class='entry']/p",
}


def gold_folder(root: Path) -> Path:
    (root / "html").mkdir(parents=True)
    with (root / "gold.jsonl").open("w", encoding="utf-8") as out:
        for number, (name, xpath) in enumerate(GOLD.items()):
            shutil.copy(PAGES / name, root / "html" / name)
            tree = html.fromstring((PAGES / name).read_bytes())
            body = "\n\n".join(p.text_content().strip() for p in tree.xpath(xpath))
            record = {"id": f"page{number}", "url": None, "html_file": f"html/{name}", "body": body}
            out.write(json.dumps(record) + "\n")
    return root


def test_score_is_token_level_precision_recall_f1() -> None:
    perfect = score("The army said", "the army said")
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)
    half = score("the army said hello world again", "the army said")
    assert half.precision == 0.5 and half.recall == 1.0
    assert score("", "the army").f1 == 0.0


def test_evaluate_prints_a_row_per_page_and_ends_with_the_f1_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(gold_folder(tmp_path / "gold"))]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["page0", "page1", "page2"]
    assert "plain trafilatura.extract" in "\n".join(lines)
    last = lines[-1]
    assert last.startswith("F1: ")
    assert 0.9 <= float(last.split()[1]) <= 1.0  # the pages are simple: near-perfect


def test_a_missing_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(tmp_path / "nowhere")]) == 2
    assert "no gold.jsonl" in capsys.readouterr().err
