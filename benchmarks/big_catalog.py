"""A large config for benchmarks: the shipped config plus generated categories up to N topics.

Generated topics recombine the shipped topics' words with made-up product names, so the search index has a
realistic vocabulary (tens of thousands of stems) rather than N copies of one word.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import yaml

SYLLABLES = "ба ве го ду жи зо ка ле ми но пу ра си ту фа хи це ча шо ю ля мо ре ти ны ко ву да".split()
TOPICS_PER_CATEGORY = 100


def made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def generate(source: Path, target: Path, topics: int, seed: int = 14) -> int:
    """Copy the config at `source` to `target` and add categories until it has `topics` topics; returns the count."""
    shutil.copytree(source, target)
    rng = random.Random(seed)
    shipped = []
    for path in sorted((source / "categories").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        shipped += [t for t in data["topics"] if "web" in t.get("channels", ["web"])]
    count = sum(len(yaml.safe_load(p.read_text(encoding="utf-8"))["topics"]) for p in (source / "categories").glob("*.yaml"))
    number = 0
    while count < topics:
        batch = []
        for t in range(min(TOPICS_PER_CATEGORY, topics - count)):
            base, other = rng.choice(shipped), rng.choice(shipped)
            product = made_up_word(rng)
            batch.append({
                "id": f"t{t}", "title": f"{base['title']} {product}",
                "description": f"{other.get('description', base['title'])} {made_up_word(rng)}",
                "form": base["form"],
                "keywords": [*rng.sample(list(base.get("keywords", [])) or [product], min(3, len(base.get("keywords", [])) or 1)),
                             product, made_up_word(rng)],
            })
        count += len(batch)
        category = {"id": f"gen{number}", "title": f"Продукт {made_up_word(rng)}", "order": 1000 + number,
                    "description": f"Вопросы по продукту {made_up_word(rng)}.", "topics": batch}
        (target / "categories" / f"gen{number}.yaml").write_text(yaml.safe_dump(category, allow_unicode=True), encoding="utf-8")
        number += 1
    return count
