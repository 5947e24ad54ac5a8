"""The parallel parse: a worker's chunks are taken in while this process still parses, not all at the end."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from funnel_site import parallel
from funnel_site.cache import Entry, dump_entries


def test_a_workers_chunks_are_taken_in_while_this_process_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK", 1)
    first_sent = multiprocessing.get_context("fork").Event()
    here = os.getpid()
    events: list[str] = []

    def parse(path: str, raw: bytes, config: object) -> Entry:
        if os.getpid() != here:  # the worker, from the front: "a" was sent before it parses "b"
            if path == "b":
                first_sent.set()
                time.sleep(1)  # meanwhile this process parses "d", takes in "a" and parses "c"
        else:
            if path == "d":
                assert first_sent.wait(10)
                time.sleep(0.3)  # the queue's thread has written "a" by now
            events.append(f"parse {path}")
        return None, []

    def keep(entry: Entry) -> Entry:
        events.append("received")
        return entry

    parsed = parallel.parse_all(parse, [(name, b"") for name in "abcd"], None, 2, True, keep)  # type: ignore[arg-type]
    assert events == ["parse d", "received", "parse c", "received"]
    assert parsed == [([(None, [])], dump_entries([(None, [])]))] * 4  # in the files' order, each with its pickle
