"""Kernel time for one tag write with many tags already in the store (ErrorTagger.tag, views included).

Run: python benchmarks/tag_write.py [tags_in_store ...]   (default: 0 10000 50000)

Each write is committed with synchronous=FULL and checkpointed, so its time is mostly fsync; the figures
are given for a store on disk (the temporary directory) and, where there is one, on a RAM disk
(/dev/shm), where fsync is free and what is left is the kernel's own work.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _synthetic import binary_evaluation

import errorscope as es

ROWS = 100_000


def measure(tags_in_store: int, folder: Path, repeat: int = 21) -> str:
    """One line: store-only and ErrorTagger (which recomputes the views) times for one tag, in ms."""
    ev = binary_evaluation(ROWS)
    tagger = es.ErrorTagger(ev, store=folder / f"bench-{tags_in_store}.sqlite")
    store = tagger.store
    if tags_in_store:
        store.tag(ev.ids[:tags_in_store], "mislabeled")
    fresh = iter(ev.ids[tags_in_store:])
    times: dict[str, list[float]] = {"store": [], "tagger": []}
    for _ in range(repeat):
        for name, write in (("store", store.tag), ("tagger", tagger.tag)):
            row = next(fresh)
            t0 = time.perf_counter()
            write([row], "mislabeled")
            times[name].append((time.perf_counter() - t0) * 1e3)
    assert store.counts()["mislabeled"] == tags_in_store + 2 * repeat
    tagger.close()
    store.close()
    med = {k: float(np.median(v)) for k, v in times.items()}
    p90 = {k: float(np.percentile(v, 90)) for k, v in times.items()}
    return (
        f"{tags_in_store:>10,} {med['store']:>10.2f} {p90['store']:>9.2f} "
        f"{med['tagger']:>10.2f} {p90['tagger']:>9.2f}"
    )


def main(sizes: list[int]) -> None:
    places = [None] + (["/dev/shm"] if Path("/dev/shm").is_dir() else [])
    for place in places:
        where = "a RAM disk" if place else "disk"
        print(f"One tag write (ms, median and p90 of 21), store on {where}, {ROWS:,}-row Evaluation:")
        print(f"{'in store':>10} {'store med':>10} {'store p90':>9} {'tagger med':>10} {'tagger p90':>9}")
        with tempfile.TemporaryDirectory(dir=place) as folder:
            for n in sizes:
                print(measure(n, Path(folder)), flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [0, 10_000, 50_000])
