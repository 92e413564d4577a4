"""Pages of a long list on the retention pages: which slice to show, and how many pages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pager:
    number: int  # from 1
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    def slice(self, items: list) -> list:
        return items[self.offset : self.offset + self.size]


def pager(wanted: str | None, size: int, total: int) -> Pager:
    """The page a `?…_page=` value asks for, held inside the pages there are: a hand-edited
    or stale number shows the nearest page, never an error."""
    try:
        number = int(wanted or 1)
    except ValueError:
        number = 1
    last = max(1, -(-total // size))
    return Pager(min(max(number, 1), last), size, total)
