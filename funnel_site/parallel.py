"""Parsing many lead files on all cores: forked workers and this process take chunks of the files as they go,
results in the files' order; and the team of forked workers that does it (``Team``, the render workers' too).

Forking lets the workers inherit the file bytes and the config instead of receiving them. The chunks
nobody has claimed yet are a range in shared memory: the workers take them from its front, this process
from its back, one at a time, until the two ends meet; so everyone stops at about the same time, however
unevenly the files or the cores' other work are spread (halves fixed in advance left one side idle for
~0.3 s of 1.0 at 10k leads). A worker sends each chunk as one pickle, written by a thread while the worker
parses on; this process takes in what has arrived between two of its own chunks, so when the ends meet
only the last chunk or two are left to unpickle (a worker's whole share, received at the end, was
unpickled at ~28 us a lead while the other core stood idle). The cache keeps the chunks' pickles as they
are (cache.py). Below ``MIN_FILES`` files, or where fork is unavailable, the parse runs in this process:
starting workers would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
import pickle
import queue
import signal
import threading
import traceback
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Generic, Iterator, Sequence, TypeVar

from funnel_site.cache import CHUNK, Entry, dump_entries, entry_key
from funnel_site.model import Config
from funnel_site.problems import Problem, WorkerDied

MIN_FILES = 500
# CHUNK (cache.py): files per worker at least, and per claim; the cache keeps the chunks as they are
Parse = Callable[[str, bytes, Config], Entry]
Read = Callable[[str], tuple[bytes | None, list[Problem]]]  # a lead file's bytes, or None and why it cannot be read
# The entries of consecutive files, with their pickle when wanted, and the keys (cache.entry_key) of the files the
# parse read itself: made only when the pickle is wanted (a cache keeps it under them; b"" otherwise), None for a
# file that cannot be read (its entry tells why); no keys when the parse was given the files' bytes.
Parsed = tuple[list[Entry], bytes | None, list[bytes | None]]
Result = TypeVar("Result")
Failure = tuple[Exception, str]  # an error in another process as it can be sent back: the error and its traceback


def die_with_parent(parent: int) -> None:
    """In a forked worker: stop at once when ``parent`` (the process that forked it) ends, instead of finishing work
    nobody waits for, or waiting forever to hand it over (Linux; elsewhere a no-op). ``parent`` is checked after the
    request, in case it ended before."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def workers_for(files: int, jobs: int | None) -> int:
    """``jobs`` if given; otherwise every usable core once there are more than MIN_FILES files."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if jobs is not None:
        return max(1, jobs)
    if files <= MIN_FILES:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), (files + CHUNK - 1) // CHUNK))


def parse_all(
    parse: Parse, items: Sequence[tuple[str, bytes | None]], config: Config, jobs: int | None, pickled: bool,
    meanwhile: Callable[[], object] = lambda: None, read: Read | None = None,
) -> list[Parsed]:
    """``parse(path, raw, config)`` for every item, in order, in chunks of consecutive items; each chunk with
    one pickle of its entries when ``pickled`` (the cache wants it; workers send it anyway). A chunk's pickle writes
    each name its leads repeat (keys, key paths, owners) once, so the leads unpickled from it share one copy of each,
    as those parsed here do: no lead needs its names made shared again.

    ``meanwhile``: what this process has to do anyway after the parse and can do while the workers parse (it then
    parses fewer chunks); called once, before this process parses, and only when workers parse too.
    ``read``: the items carry no bytes (None); each process reads the files it parses with ``read(path)``."""
    workers = workers_for(len(items), jobs)
    if workers <= 1:
        return [_parsed(parse, items[start:start + CHUNK], config, pickled, read) for start in range(0, len(items), CHUNK)]
    parsed: dict[int, Parsed] = {}

    def files(chunk: int) -> Sequence[tuple[str, bytes | None]]:
        return items[chunk * CHUNK:(chunk + 1) * CHUNK]

    def sent(chunk: int) -> tuple[bytes, list[bytes | None]]:
        """In a worker: one chunk, as the pickle of its entries, and the keys of the files it read."""
        entries, blob, keys = _parsed(parse, files(chunk), config, pickled, read)
        return blob if blob is not None else dump_entries(entries), keys

    def take(arrived: Iterator[tuple[int, tuple[bytes, list[bytes | None]]]]) -> None:
        for chunk, (blob, keys) in arrived:
            parsed[chunk] = (pickle.loads(blob), blob if pickled else None, keys)

    chunks = (len(items) + CHUNK - 1) // CHUNK
    with Team(workers - 1, chunks, sent, "parsing lead files") as team:
        meanwhile()
        for chunk in team.claimed():
            parsed[chunk] = _parsed(parse, files(chunk), config, pickled, read)
            take(team.results(block=False))
        take(team.results(block=True))
    return [parsed[chunk] for chunk in range(chunks)]


def _parsed(parse: Parse, items: Sequence[tuple[str, bytes | None]], config: Config, pickled: bool, read: Read | None) -> Parsed:
    entries: list[Entry] = []
    keys: list[bytes | None] = []
    for path, given in items:
        raw, problems = read(path) if read is not None else (given, [])
        if read is not None:
            keys.append(None if raw is None else entry_key(path, raw) if pickled else b"")
        entries.append(parse(path, raw, config) if raw is not None else (None, problems))
    return entries, dump_entries(entries) if pickled else None, keys


class Team(Generic[Result]):
    """``size`` forked workers doing the tasks ``do(0)`` .. ``do(tasks - 1)``: each takes the next unclaimed task from
    the front, while this process may take its own from the end (``claimed``); each result comes back as soon as it
    is made (``results``). Leaving the block ends the workers, whatever happened.

    Forking lets the workers inherit ``do`` and all it uses instead of receiving them. A worker writes to a pipe of
    its own, from a thread (it works on while this process is busy), and ends with a last message: done, or its
    error with its traceback. Only the worker holds its pipe's writing end, so its death (the out-of-memory killer,
    a crash in a C extension) reads as the end of the pipe, even in the middle of a message: ``WorkerDied`` at once,
    where a pool waits forever for the lost task's result.
    """

    def __init__(self, size: int, tasks: int, do: Callable[[int], Result], doing: str,
                 companions: Sequence[tuple[multiprocessing.process.BaseProcess, str]] = ()) -> None:
        """``companions``: other processes of the build working meanwhile, and what they do; one that ends with an
        exit code other than 0 fails the team's work at once too (its output is waited for elsewhere)."""
        context = multiprocessing.get_context("fork")
        self.doing = doing
        self.companions = {process.sentinel: (process, who) for process, who in companions}
        self.unclaimed = context.Array("q", [0, tasks])  # [first, end) of the tasks nobody has claimed yet
        self.workers: dict[Connection, multiprocessing.process.BaseProcess] = {}
        self.working: set[Connection] = set()  # those whose last message has not come yet
        try:
            for _ in range(size):
                receiving, sending = context.Pipe(duplex=False)
                worker = context.Process(target=_work, args=(do, self.unclaimed, sending, os.getpid()), daemon=True)
                worker.start()
                sending.close()  # the worker's end: workers forked later never have it
                self.workers[receiving] = worker
                self.working.add(receiving)
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> Team[Result]:
        return self

    def claimed(self) -> Iterator[int]:
        """Tasks for this process, taken from the end of the unclaimed ones until none is left."""
        return _claimed(self.unclaimed, from_end=True, waiting=self._check_workers)

    def _check_workers(self) -> None:
        """``WorkerDied`` for a worker that ended unfinished (exit code 0: it finished): one killed while it claimed a
        task holds the claims' lock for ever."""
        for worker in self.workers.values():
            if worker.exitcode:
                raise died(f"a worker process {self.doing}", worker)

    def results(self, block: bool) -> Iterator[tuple[int, Result]]:
        """Each task's number and result: those that have arrived, or with ``block`` all until every worker is done.
        A worker's error is raised here, with its traceback as the cause."""
        while self.working:
            ready = wait([*self.working, *self.companions], None if block else 0)
            if not ready:
                return
            for receiving in ready:
                if receiving in self.companions:
                    companion, who = self.companions.pop(receiving)
                    companion.join()  # ended (its sentinel says so), but not always reaped yet: exitcode may still be None
                    if companion.exitcode:
                        raise died(who, companion)
                    continue
                try:
                    task, outcome = receiving.recv()
                except (EOFError, OSError):  # OSError: the end came in the middle of a message
                    raise died(f"a worker process {self.doing}", self.workers[receiving]) from None
                if task is not None:
                    yield task, outcome
                elif outcome is not None:
                    raise raised(outcome)
                else:
                    self.working.remove(receiving)

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers.values():
            worker.terminate()  # when all went well it is done; otherwise it must stop (writing pages, among others)
        for receiving, worker in self.workers.items():
            worker.join()
            receiving.close()


def _work(do: Callable[[int], Any], unclaimed: Any, sending: Connection, parent: int) -> None:
    """In a worker: tasks from the front of the unclaimed ones, each result sent as soon as it is made, then the last message."""
    die_with_parent(parent)
    outbox = _Outbox(sending)
    try:
        for task in _claimed(unclaimed, from_end=False):
            outbox.put((task, do(task)))
        outbox.put((None, None))
    except KeyboardInterrupt:  # Ctrl-C reached the whole process group: the build's process reports it
        return
    except Exception as error:  # noqa: BLE001 - raised again in the build's process
        outbox.put((None, failure(error)))
    outbox.close()


class _Outbox:
    """A worker's messages, written to its pipe by a thread: the worker goes on with its next task while this one waits
    for the build's process to read (a chunk of parsed leads is larger than a pipe holds)."""

    def __init__(self, sending: Connection) -> None:
        self.messages: queue.SimpleQueue[tuple[int | None, Any] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._send, args=(sending,), daemon=True)
        self.thread.start()

    def put(self, message: tuple[int | None, Any]) -> None:
        self.messages.put(message)

    def close(self) -> None:
        """Once every message is written."""
        self.messages.put(None)
        self.thread.join()

    def _send(self, sending: Connection) -> None:
        while (message := self.messages.get()) is not None:
            sending.send(message)


def _claimed(unclaimed: Any, from_end: bool, waiting: Callable[[], None] = lambda: None) -> Iterator[int]:
    """Tasks taken one at a time from the front or the end of the unclaimed ones, until none is left; ``waiting`` is
    called every 0.1 s while another process holds the claims' lock."""
    lock = unclaimed.get_lock()
    while True:
        while not lock.acquire(timeout=0.1):
            waiting()
        try:
            first, end = unclaimed[0], unclaimed[1]
            if first >= end:
                return
            task = end - 1 if from_end else first
            unclaimed[1 if from_end else 0] = end - 1 if from_end else first + 1
        finally:
            lock.release()
        yield task


def died(who: str, process: multiprocessing.process.BaseProcess) -> WorkerDied:
    """The error for a process of the build that ended before its work was done, naming the signal that killed it or
    its exit code."""
    process.join()
    code = process.exitcode or 0
    if code >= 0:
        return WorkerDied(f"{who} ended unexpectedly (exit code {code})")
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "an unknown signal"
    hint = "; the system may be out of memory" if -code == signal.SIGKILL else ""  # what the out-of-memory killer sends
    return WorkerDied(f"{who} ended unexpectedly (killed by signal {-code}, {name}){hint}")


def failure(error: Exception) -> Failure:
    """In another process: ``error`` as it can be sent to the build's process (itself, or, where it does not survive
    pickling, a RuntimeError that names it), with its traceback."""
    trace = "".join(traceback.format_exception(error))
    try:
        return pickle.loads(pickle.dumps(error)), trace
    except Exception:  # noqa: BLE001 - any exception may fail to pickle or to rebuild
        return RuntimeError(f"{type(error).__qualname__}: {error}"), trace


def raised(sent: Failure) -> Exception:
    """The error another process sent back, to raise here with that process's traceback as its cause."""
    error, trace = sent
    error.__cause__ = RemoteTraceback(trace)
    return error


class RemoteTraceback(Exception):
    """The traceback of an error in another process, shown as the cause of the error raised here (as concurrent.futures does)."""

    def __str__(self) -> str:
        return str(self.args[0])
