"""A lock file per output: one writer at a time, stale locks from dead processes taken over.

Two ``make`` commands on one build folder must not write the same run or the same result
twice. Each writer holds ``<target>.lock``, created atomically (``O_CREAT | O_EXCL``), that
names its owner (host, pid, start time and what it does). A second writer either waits
(``wait`` seconds, polling) or fails at once with a message that names the owner and the fix.
A lock whose owner runs on this host but no longer exists (killed, crashed) is stale: it is
removed and taken over, so a ``kill -9`` never blocks later runs.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path


class LockedError(RuntimeError):
    """Another live process holds the lock."""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _read_owner(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


class FileLock:
    """Exclusive lock on ``target`` through the file ``<target>.lock`` (a context manager).

    Parameters
    ----------
    target : path
        The file or folder being written (a run folder, a results file, a notebook stage).
    what : str
        What the owner does, for the message another process gets.
    wait : float
        Seconds to wait for a live owner before giving up (0: fail at once).
    poll : float
        Seconds between attempts while waiting.
    """

    def __init__(self, target, what="", wait=0.0, poll=0.5):
        self.target = Path(target)
        self.path = self.target.with_name(self.target.name + ".lock")
        self.what = what or f"writing {self.target}"
        self.wait, self.poll = float(wait), float(poll)
        self.held = False

    def _owner_text(self, owner):
        if not owner:
            return "an unknown process (unreadable lock file)"
        return (f"pid {owner.get('pid')} on {owner.get('host')} since {owner.get('started')} "
                f"({owner.get('what', '')})")

    def _stale(self, owner):
        """True when the owner is a process of this host that no longer runs."""
        if not owner or owner.get("host") != socket.gethostname():
            return False
        pid = owner.get("pid")
        return isinstance(pid, int) and not _alive(pid)

    def _try(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "what": self.what}
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(info) + "\n")
        self.held = True
        return True

    def acquire(self):
        deadline = time.monotonic() + self.wait
        while True:
            if self._try():
                return self
            owner = _read_owner(self.path)
            if owner is None and self.path.exists():
                # the owner is between creating and filling the file: give it a moment
                time.sleep(0.05)
                owner = _read_owner(self.path)
            if self._stale(owner):
                # the owner died without cleaning up: take the lock over (unlink, then retry the
                # atomic create, so two processes taking over at once still get one winner)
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            if time.monotonic() >= deadline:
                raise LockedError(
                    f"{self.target} is being written by {self._owner_text(owner)}: wait for it to finish "
                    f"(or stop it); if no such process runs any more, delete {self.path}"
                )
            time.sleep(self.poll)

    def release(self):
        if self.held:
            owner = _read_owner(self.path)
            if owner and owner.get("pid") == os.getpid():
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def main(argv=None):  # pragma: no cover - exercised through the Makefile tests
    """``python -m softlib.io.lock TARGET [--wait S] -- COMMAND ...``: run COMMAND holding TARGET's lock."""
    import subprocess
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv or argv.index("--") < 1:
        raise SystemExit("usage: python -m softlib.io.lock TARGET [--wait SECONDS] -- COMMAND ...")
    k = argv.index("--")
    head, cmd = argv[:k], argv[k + 1:]
    wait = 0.0
    if "--wait" in head:
        i = head.index("--wait")
        wait = float(head[i + 1])
        del head[i:i + 2]
    try:
        with FileLock(head[0], what=" ".join(cmd)[:200], wait=wait):
            return subprocess.call(cmd)
    except LockedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 75  # EX_TEMPFAIL


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
