"""softlib.io.lock: one writer at a time, a clear message for the second, stale locks taken over."""
import json
import multiprocessing as mp
import os
import subprocess
import sys

import pytest

from softlib.io.lock import FileLock, LockedError


def test_second_writer_fails_at_once_naming_the_first(tmp_path):
    target = tmp_path / "runs" / "T0.600_s0"
    with FileLock(target, what="simulating T0.600_s0"):
        owner = json.loads((tmp_path / "runs" / "T0.600_s0.lock").read_text())
        assert owner["pid"] == os.getpid()
        with pytest.raises(LockedError, match=rf"pid {os.getpid()} .*simulating T0.600_s0"):
            FileLock(target).acquire()
    assert not (tmp_path / "runs" / "T0.600_s0.lock").exists()  # released
    with FileLock(target):  # and free again
        pass


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / "out.json.lock"
    lock.write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename, "started": "x", "what": "old"}))
    with FileLock(tmp_path / "out.json") as held:
        assert json.loads(lock.read_text())["pid"] == os.getpid() and held.held


def test_lock_of_another_host_is_never_taken_over(tmp_path):
    lock = tmp_path / "out.json.lock"
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere", "started": "x", "what": "remote job"}))
    with pytest.raises(LockedError, match="elsewhere.*delete"):
        FileLock(tmp_path / "out.json", wait=0.2, poll=0.05).acquire()


def _contend(target, barrier, results):
    barrier.wait()
    try:
        with FileLock(target):
            results.put("won")
            barrier.wait()  # hold the lock until the other one has tried
    except LockedError:
        results.put("lost")
        barrier.wait()


def test_two_processes_at_once_exactly_one_wins(tmp_path):
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(tmp_path / "stage.ipynb", barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert sorted(results.get(timeout=5) for _ in range(2)) == ["lost", "won"]


def test_waiting_writer_gets_the_lock_when_it_is_released(tmp_path):
    target = tmp_path / "x"
    first = FileLock(target).acquire()
    # a second process waits up to 20 s; release after it has started waiting
    code = ("import sys; sys.path.insert(0, %r); from softlib.io.lock import FileLock; "
            "FileLock(%r, wait=20, poll=0.05).acquire(); print('got it')") % (os.getcwd(), str(target))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    import time

    time.sleep(0.5)
    assert proc.poll() is None  # still waiting
    first.release()
    out, _ = proc.communicate(timeout=20)
    assert "got it" in out
