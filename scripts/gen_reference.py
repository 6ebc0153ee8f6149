"""Write docs/REFERENCE.md from the code (UI texts, ticket notifications): `python scripts/gen_reference.py`."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.catalog.reference import reference_markdown  # noqa: E402

if __name__ == "__main__":
    target = ROOT / "docs" / "REFERENCE.md"
    target.write_text(reference_markdown(), encoding="utf-8")
    print(target)
