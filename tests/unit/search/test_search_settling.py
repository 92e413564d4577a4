"""The drain process's settler: batches settled in order on its thread, their rows "in hand"
until then, a failed batch let go (its rows stay queued for the next drain)."""

from __future__ import annotations

import threading

from archive_app.search.settling import Settler


def test_rows_are_held_until_their_batch_is_settled():
    release = threading.Event()
    settled = []

    def settle(extracted, rows):
        release.wait(5)
        settled.append((extracted, rows))

    settler = Settler(settle)
    try:
        settler.hand(["text 1"], [("d1", 1), ("d2", 1)])
        settler.hand(["text 2"], [("d3", 2)])
        assert settler.holds(("d1", 1)) and settler.holds(("d3", 2))
        assert not settler.holds(("d1", 2))  # queued again since: not this batch's row
        release.set()
        settler.wait()
        assert settled == [(["text 1"], [("d1", 1), ("d2", 1)]), (["text 2"], [("d3", 2)])]
        assert not settler.holds(("d1", 1)) and not settler.holds(("d3", 2))
    finally:
        settler.close()


def test_a_batch_that_fails_is_let_go_and_the_next_is_settled(caplog):
    settled = []

    def settle(extracted, rows):
        if rows == [("bad", 1)]:
            raise RuntimeError("the statement's values: 张三 13812345678")
        settled.append(rows)

    settler = Settler(settle)
    try:
        settler.hand([], [("bad", 1)])
        settler.hand([], [("good", 1)])
        settler.wait()
    finally:
        settler.close()
    assert settled == [[("good", 1)]] and not settler.holds(("bad", 1))
    assert "RuntimeError" in caplog.text and "张三" not in caplog.text  # the type alone
