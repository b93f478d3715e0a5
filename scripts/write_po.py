"""Write a .po part from a Python/JSON dict of English msgid → Chinese translation.

    python scripts/write_po.py translations/zh/parts/orders.po < pairs.json

Existing entries in the part are kept; new ones are added.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def main(path: str) -> None:
    target = Path(path)
    catalog = Catalog(locale="zh", domain="messages")
    if target.exists():
        with target.open("rb") as fh:
            for m in read_po(fh):
                if m.id:
                    catalog[m.id] = m
    for msgid, text in json.load(sys.stdin).items():
        catalog.add(msgid, text)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False, sort_output=True)


if __name__ == "__main__":
    main(sys.argv[1])
