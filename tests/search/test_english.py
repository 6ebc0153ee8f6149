"""English phrases with no Russian word find their topics through the catalog's English texts and keywords and
English stems ("generating" ~ "generated")."""
from __future__ import annotations

import pytest
import yaml

from engine.search import suggest
from engine.settings import PROJECT_ROOT

PHRASES = yaml.safe_load((PROJECT_ROOT / "tests" / "data" / "search_phrases_en.yaml").read_text())["phrases"]


@pytest.mark.parametrize("case", PHRASES, ids=lambda case: case["phrase"])
def test_english_phrase_finds_its_topic_in_the_first_three(catalog, case):
    found = [s.topic for s in suggest(catalog, case["phrase"], "web")[:3]]
    if "category" in case:
        assert case["category"] in [t.category_id for t in found]
    if "topic" in case:
        assert case["topic"] in [t.id for t in found if t.category_id == case.get("category", t.category_id)]


def test_the_example_of_the_issue_is_the_first_suggestion(catalog):
    assert suggest(catalog, "report is not generating", "web")[0].topic.key == "reports/report-export"
