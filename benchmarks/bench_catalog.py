"""Load time of a generated catalog (100 categories x 100 topics, forms of 10 fields) vs plain YAML parsing.

Run: python benchmarks/bench_catalog.py [--form-per-topic] [--repeat N]
The baseline is `yaml.load(CSafeLoader)` of the same files in the same run: the floor any YAML
config loader pays. The catalog adds positions, validation, cross-checks and form resolution.
"""
from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from channels import register_channels  # noqa: E402
from engine.catalog import load_catalog  # noqa: E402
from engine.catalog.templates import _template_problems  # noqa: E402
from engine.catalog.yaml_positions import parse_yaml_shared  # noqa: E402

register_channels()  # as run.py does at a process's start

CATEGORIES, TOPICS, FIELDS, LIBRARY = 100, 100, 10, 50
BASE_FORM = """id: default
fields:
  - {id: subject, label: Тема, required: true, max_length: 200}
  - {id: message, label: Описание, type: text, required: true}
  - {id: attachments, label: Вложения, type: attachments}
"""


def form_text(form_id: str, seed: int) -> str:
    """A form extending default: half library fields, half inline ones (one select, one conditional)."""
    lines = [f"id: {form_id}", "extends: default", "fields:"]
    for j in range(FIELDS - 3):
        if j % 2 == 0:
            lines += [f"  - use: lib{(seed + j) % LIBRARY}", "    required: true"]
        elif j == 1:
            lines += [f"  - id: kind{j}", "    label: Вид", "    type: select", "    options: [Один, Два, Другое]"]
        else:
            lines += [f"  - id: extra{j}", f"    label: Поле {j}", "    visible_when: {field: kind1, equals: Другое}"]
    return "\n".join(lines) + "\n"


def generate(root: Path, form_per_topic: bool) -> None:
    for sub in ("categories", "forms", "notifications"):
        (root / sub).mkdir(parents=True)
    library = ["fields:"] + [
        f"  lib{i}:\n    label: Поле {i}\n    pattern: '^\\d{{1,12}}$'\n    help: Откройте раздел {i} и скопируйте значение."
        for i in range(LIBRARY)
    ]
    (root / "forms" / "fields.yaml").write_text("\n".join(library) + "\n", encoding="utf-8")
    (root / "forms" / "default.yaml").write_text(BASE_FORM, encoding="utf-8")
    for c in range(CATEGORIES):
        topics = []
        for t in range(TOPICS):
            form_id = f"f{c}-{t}" if form_per_topic else f"f{c}"
            topics.append(
                f"  - id: t{t}\n    title: Тема {c}.{t}\n    description: Описание темы {t} в категории {c}.\n"
                f"    priority: normal\n    form: {form_id}\n    keywords: [слово{t}, ещё{t}]"
            )
            if form_per_topic or t == 0:
                (root / "forms" / f"{form_id}.yaml").write_text(form_text(form_id, c + t), encoding="utf-8")
        text = f"id: c{c}\ntitle: Категория {c}\ndescription: Описание категории {c}.\norder: {c}\ntopics:\n" + "\n".join(topics) + "\n"
        (root / "categories" / f"c{c}.yaml").write_text(text, encoding="utf-8")
    (root / "notifications" / "channels.yaml").write_text("channels:\n  web: {kind: web}\n", encoding="utf-8")


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--form-per-topic", action="store_true", help="10,000 forms instead of one per category")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "config"
        generate(root, args.form_per_topic)
        files = sorted(root.rglob("*.yaml"))
        size = sum(p.stat().st_size for p in files)

        def baseline():
            for path in files:
                yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)

        catalog = load_catalog(root)
        fields = sum(len(f.fields) for f in catalog.forms.values())
        base = best_of(args.repeat, baseline)
        gc.disable()  # load_catalog pauses the collector; show the baseline under the same condition too
        base_nogc = best_of(args.repeat, baseline)
        gc.enable()
        full = best_of(args.repeat, lambda: cold_load(root))
        warm = best_of(args.repeat, lambda: load_catalog(root))
    print(f"{len(files)} files, {size / 1e6:.1f} MB: {len(catalog.categories)} categories, {len(catalog.all_topics())} topics, "
          f"{len(catalog.forms)} forms, {fields} resolved fields")
    print(f"baseline yaml.load(CSafeLoader):            {base * 1000:.0f} ms")
    print(f"baseline yaml.load(CSafeLoader), GC paused: {base_nogc * 1000:.0f} ms")
    print(f"load_catalog:                               {full * 1000:.0f} ms  "
          f"({full / base:.2f}x baseline, {full / base_nogc:.2f}x GC-paused baseline)")
    print(f"load_catalog again, files unchanged:        {warm * 1000:.0f} ms  (parsed files and template checks remembered)")


def cold_load(root):
    """A first load: nothing remembered from an earlier one (a reload reuses unchanged files' parses and checks)."""
    parse_yaml_shared.cache_clear()
    _template_problems.cache_clear()
    return load_catalog(root)


if __name__ == "__main__":
    main()
