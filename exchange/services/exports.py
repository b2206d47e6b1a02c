"""Exports of what a feed holds, in the forms analysts open: CSV in the shared schema's field
order with the handling caveats flattened (the same form `exchange sanitise` writes)."""

from __future__ import annotations

import csv
from pathlib import Path

from exchange.core.schemas import Catalogue
from exchange.storage import csvfiles
from exchange.storage._files import open_private
from exchange.storage.feed_store import FeedStore

__all__ = ["export_csv"]


async def export_csv(store: FeedStore, dataset_id: str, catalogue: Catalogue, out: Path) -> int:
    """Write one dataset's records as CSV in the shared schema's field order; handling flattened."""
    dataset = catalogue[dataset_id]
    names = csvfiles.shared_names(dataset)
    count = 0
    with open_private(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(csvfiles.shared_columns(dataset))
        async for row in store.records(dataset_id):
            writer.writerow(csvfiles.shared_cells(dataset, row, names=names))
            count += 1
    return count
