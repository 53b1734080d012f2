"""Run one notebook stage: convert, check its parameters, execute with papermill, publish atomically.

``python -m softlib.pipeline.notebook run SOURCE.py EXECUTED.ipynb [--cwd DIR] [--log-output]
-- <papermill arguments>`` is what the Makefile calls for every stage:

* it holds a lock on the executed notebook (:class:`softlib.io.lock.FileLock`), so two
  ``make`` commands on one build folder never run the same stage at once: the second fails at
  once and names the first;
* it refuses parameters the notebook does not declare (papermill itself only warns about
  ``-p windw 30`` and runs with the default, which silently gives the default result);
* it executes into a temporary file and renames it into place only when the notebook
  succeeded, so an interrupted stage is rerun (and resumes from its own checkpoints)
  instead of being taken as done.
"""
from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

#: papermill options that take one value / two values; everything else is a flag
_ONE = {"-y", "--parameters_yaml", "-f", "--parameters_file", "-b", "--parameters_base64", "-k", "--kernel",
        "--cwd", "--language", "--engine", "--execution-timeout", "--start-timeout", "-r", "--parameters_raw"}
_TWO = {"-p", "--parameters", "-r", "--parameters_raw"}


def parameter_names(args):
    """The parameter names set by a papermill argument list (``-p``, ``-r``, ``-y``, ``-f``)."""
    import yaml

    names, i = [], 0
    args = list(args)
    while i < len(args):
        a = args[i]
        if a in _TWO:
            if i + 2 >= len(args):
                raise ValueError(f"{a} needs a name and a value")
            names.append(args[i + 1])
            i += 3
        elif a in ("-y", "--parameters_yaml"):
            data = yaml.safe_load(args[i + 1])
            if not isinstance(data, dict):
                raise ValueError(f"-y expects a YAML mapping of parameter names to values, got {args[i + 1]!r}")
            names += [str(k) for k in data]
            i += 2
        elif a in ("-f", "--parameters_file"):
            with open(args[i + 1]) as f:
                data = yaml.safe_load(f) or {}
            names += [str(k) for k in data]
            i += 2
        elif a in _ONE:
            i += 2
        else:
            i += 1
    return names


def check(notebook, args):
    """Raise ValueError when ``args`` set a parameter that ``notebook`` does not declare."""
    import papermill

    known = papermill.inspect_notebook(str(notebook))
    if not known:
        raise ValueError(f"{notebook} has no cell tagged 'parameters': papermill cannot set anything in it")
    unknown = [n for n in parameter_names(args) if n not in known]
    if unknown:
        hints = []
        for n in unknown:
            close = difflib.get_close_matches(n, list(known), n=1)
            hints.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(f"{notebook}: unknown parameter(s) {', '.join(hints)}; this notebook takes "
                         f"{', '.join(sorted(known))}")


def _tool(name):
    """An executable of the running environment (the venv's jupytext, papermill)."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else name


def run(source, executed, args, cwd=None, log_output=False):
    """Execute the percent-format ``source`` with papermill ``args`` into ``executed`` (see module doc)."""
    from ..io.lock import FileLock

    source, executed = Path(source), Path(executed)
    if not source.exists():
        raise ValueError(f"no notebook {source}")
    executed.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = executed.parent.parent / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(executed, what=f"executing {source.name}"):
        src = tmp_dir / f"{executed.name}.{os.getpid()}.src.ipynb"
        out = tmp_dir / f"{executed.name}.{os.getpid()}.ipynb"
        try:
            subprocess.run([_tool("jupytext"), "--quiet", "--to", "ipynb", "-o", str(src), str(source)], check=True)
            check(src, args)
            cmd = [_tool("papermill"), "-k", "python3", "--no-progress-bar"]
            cmd += ["--cwd", str(cwd)] if cwd else []
            cmd += ["--log-output"] if log_output else []
            proc = subprocess.run(cmd + [str(src), str(out)] + list(args))
            if proc.returncode:
                raise RuntimeError(f"{source.name} failed (papermill exit {proc.returncode}); the partial "
                                   f"notebook is {out}")
            os.replace(out, executed)
        finally:
            src.unlink(missing_ok=True)
    return executed


def main(argv=None):
    from ..io.lock import LockedError

    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) >= 3 and argv[0] == "run":
        k = argv.index("--") if "--" in argv else len(argv)
        head, args = argv[1:k], argv[k + 1:]
        cwd, log = None, "--log-output" in head
        if "--cwd" in head:
            cwd = head[head.index("--cwd") + 1]
        pos = [h for i, h in enumerate(head) if not h.startswith("--") and (i == 0 or head[i - 1] != "--cwd")]
        try:
            run(pos[0], pos[1], args, cwd=cwd, log_output=log)
        except (ValueError, LockedError, RuntimeError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"done: {pos[1]}")
        return 0
    if len(argv) >= 2 and argv[0] == "check":
        try:
            check(argv[1], argv[2:])
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    print("usage: python -m softlib.pipeline.notebook run SOURCE.py EXECUTED.ipynb [--cwd DIR] [--log-output] "
          "-- ARGS\n       python -m softlib.pipeline.notebook check NOTEBOOK.ipynb ARGS", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
