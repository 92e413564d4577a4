"""Term bitmaps, old and new, on the same postings: a Python int with one byte per document
(what `docsets.py` used before) against `pyroaring` (what it uses now).

    nice -n 10 .venv/bin/python bench/bitmaps.py [--documents 100000]

The documents are laid out as the index lays them out (segments of `SEGMENT_DOCS`); each
term's postings are a sorted list of document numbers per segment, as `posting_ids` returns
them, at document frequencies from one in a thousand to nine in ten. For each frequency it
prints, over all segments: the build time from postings, the time of an AND with a term of
half the documents and its count (the clearance trimming, a facet value or a document
frequency), and the memory per bitmap (the int's `sys.getsizeof`; the roaring bitmap's
estimate that the cache bounds by, and its serialised size beside it as a check).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive_app.search.docsets import bitmap, bitmap_bytes  # noqa: E402
from archive_app.search.engine import SEGMENT_DOCS  # noqa: E402

FREQUENCIES = (0.001, 0.01, 0.1, 0.5, 0.9)


def int_bitmap(docnums, size: int) -> int:
    """The former `docsets.bitmap`: one byte per document, 0 or 1, read as one int."""
    marks = bytearray(size)
    for docnum in docnums:
        marks[docnum] = 1
    return int.from_bytes(marks, "little")


def best(run, repeats: int) -> float:
    """The fastest of `repeats` runs, in milliseconds (the least disturbed by the other
    core's work)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def row(
    frequency: float, ids: list[list[int]], sizes: list[int], half: list[list[int]], repeats: int
) -> list[str]:
    """One frequency's figures: each term AND a term of half the documents, then counted."""
    half_int = [int_bitmap(i, s) for i, s in zip(half, sizes, strict=True)]
    half_roaring = [bitmap(i) for i in half]
    build_int = best(lambda: [int_bitmap(i, s) for i, s in zip(ids, sizes, strict=True)], repeats)
    build_roaring = best(lambda: [bitmap(i) for i in ids], repeats)
    ints = [int_bitmap(i, s) for i, s in zip(ids, sizes, strict=True)]
    roarings = [bitmap(i) for i in ids]
    assert [(a & b).bit_count() for a, b in zip(ints, half_int, strict=True)] == [
        a.intersection_cardinality(b) for a, b in zip(roarings, half_roaring, strict=True)
    ]
    and_int = best(
        lambda: sum((a & b).bit_count() for a, b in zip(ints, half_int, strict=True)), repeats * 20
    )
    and_roaring = best(
        lambda: sum(
            a.intersection_cardinality(b) for a, b in zip(roarings, half_roaring, strict=True)
        ),
        repeats * 20,
    )
    bytes_int = sum(map(sys.getsizeof, ints))
    estimate = sum(map(bitmap_bytes, roarings))
    serialised = sum(len(b.serialize()) for b in roarings)
    return [
        f"{frequency:g}",
        f"{build_int:.2f}",
        f"{build_roaring:.2f}",
        f"{build_int / build_roaring:.1f}",
        f"{and_int:.3f}",
        f"{and_roaring:.3f}",
        f"{and_int / and_roaring:.1f}",
        f"{bytes_int:,}",
        f"{estimate:,} / {serialised:,}",
        f"{bytes_int / estimate:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(11)
    sizes = [
        min(SEGMENT_DOCS, args.documents - start)
        for start in range(0, args.documents, SEGMENT_DOCS)
    ]

    def postings(frequency: float) -> list[list[int]]:
        return [sorted(rng.sample(range(size), max(1, int(size * frequency)))) for size in sizes]

    half = postings(0.5)
    half_roaring = [bitmap(ids) for ids in half]
    print(
        f"{args.documents:,} documents in {len(sizes)} segments; times are the best of "
        f"{args.repeats}, summed over the segments"
    )
    header = (
        "frequency",
        "build int ms",
        "build roaring ms",
        "x",
        "AND+count int ms",
        "AND+count roaring ms",
        "x",
        "bytes int",
        "bytes roaring (estimate / serialised)",
        "x",
    )
    print(" | ".join(header))
    for frequency in FREQUENCIES:
        print(" | ".join(row(frequency, postings(frequency), sizes, half, args.repeats)))
    sample = bitmap(postings(0.1)[0])
    estimate_us = best(lambda: [bitmap_bytes(sample) for _ in range(1000)], args.repeats)
    serialise_us = best(lambda: [len(sample.serialize()) for _ in range(1000)], args.repeats)
    print(
        f"size of one bitmap (frequency 0.1, one segment): estimate {estimate_us:.1f} us, "
        f"len(serialize()) {serialise_us:.1f} us"
    )
    dense = [bitmap(ids) for ids in postings(0.9)]
    materialised = best(
        lambda: sum(len(a & b) for a, b in zip(dense, half_roaring, strict=True)), args.repeats * 20
    )
    print(
        f"frequency 0.9 AND frequency 0.5 as len(a & b), materialising the set: "
        f"{materialised:.3f} ms"
    )


if __name__ == "__main__":
    main()
