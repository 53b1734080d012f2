"""The course (book/course/*.md): every exercise has a solution, and every solution runs.

The pages are MyST Markdown for sphinx-exercise: an exercise is a ``:::{exercise}`` block with a
``:label:`` option, its solution a ``:::{solution} <label>`` block holding one or more ```` ```python ````
fences. The structural tests check the pages (one solution per exercise, unique labels, the lessons in
the course page's toctree and their sections); ``test_solution_runs`` executes every solution's code, each
in a fresh namespace with the repository root as working directory, the way a student pastes it into a
notebook.

Solutions that read the quick preset's build folder (``build/quick``: trajectories, softness, structure,
count tables) are skipped until ``make quick`` has produced it. All 25 solutions take 40-55 s together in
one process on 2 cores shared with other jobs (measured twice; under the 60 s above which they would be
marked ``slow``); without ``build/quick`` only the six that need no build run (a few seconds).
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "book" / "course"
QUICK = ROOT / "build" / "quick"
LESSONS = [f"lesson_{k:02d}.md" for k in range(1, 8)]
#: code that mentions one of these reads the quick preset's build folder
NEEDS_BUILD = ('Layout("quick")', "Layout('quick')", "build/quick")

_OPEN = re.compile(r"^(?P<fence>:{3,})\{(?P<kind>exercise|solution)\}[ \t]*(?P<arg>\S*)[ \t]*$")
_LABEL = re.compile(r"^:label:[ \t]*(\S+)[ \t]*$")
_PYTHON = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass
class Block:
    kind: str        # 'exercise' or 'solution'
    label: str       # the exercise's :label:, or the solution's argument
    page: str        # file name
    line: int        # 1-based line of the opening fence
    body: str


def parse(path):
    """The exercise and solution blocks of one page, in order."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start, body = m["fence"], i, []
        i += 1
        in_code = False
        while i < len(lines):
            s = lines[i].strip()
            if in_code and s == "```":
                in_code = False
            elif not in_code and s.startswith("```"):
                in_code = True
            if not in_code and s == fence:
                break
            body.append(lines[i])
            i += 1
        else:
            raise AssertionError(f"{Path(path).name}:{start + 1}: {m['kind']} block is never closed by {fence}")
        label = m["arg"]
        if m["kind"] == "exercise":
            found = [_LABEL.match(b.strip()) for b in body[:5]]
            label = next((f[1] for f in found if f), "")
        blocks.append(Block(m["kind"], label, Path(path).name, start + 1, "\n".join(body) + "\n"))
        i += 1
    return blocks


def all_blocks():
    return [b for page in sorted(COURSE.glob("*.md")) for b in parse(page)]


def solutions():
    """(label, code) of every solution, its python fences joined in order."""
    out = []
    for b in all_blocks():
        if b.kind == "solution":
            out.append((b.label, "\n".join(_PYTHON.findall(b.body))))
    return out


# ---------------------------------------------------------------------------- structure (fast)
def test_course_pages_exist():
    missing = [p for p in ["index.md", *LESSONS] if not (COURSE / p).exists()]
    assert not missing, f"book/course lacks {missing}"


def test_index_lists_every_lesson():
    text = (COURSE / "index.md").read_text(encoding="utf-8")
    toctree = re.search(r"```\{toctree\}(.*?)```", text, re.DOTALL)
    assert toctree, "index.md has no toctree"
    listed = re.findall(r"^\s*(lesson_\d\d)\s*$", toctree[1], re.MULTILINE)
    assert listed == [p[:-3] for p in LESSONS]


def test_every_exercise_has_exactly_one_solution():
    blocks = all_blocks()
    exercises = [b for b in blocks if b.kind == "exercise"]
    sols = [b for b in blocks if b.kind == "solution"]
    assert exercises, "no exercises found"
    no_label = [f"{b.page}:{b.line}" for b in exercises if not b.label]
    assert not no_label, f"exercises without :label: at {no_label}"
    labels = [b.label for b in exercises]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    assert not dup, f"exercise labels used more than once: {dup}"
    targets = [b.label for b in sols]
    assert sorted(targets) == sorted(labels), (
        f"exercises without a solution: {sorted(set(labels) - set(targets))}; solutions without an "
        f"exercise: {sorted(set(targets) - set(labels))}; duplicated solutions: "
        f"{sorted({x for x in targets if targets.count(x) > 1})}")
    # a solution sits on the page of its exercise, after it
    where = {b.label: b for b in exercises}
    for s in sols:
        e = where[s.label]
        assert (s.page, s.line > e.line) == (e.page, True), f"solution {s.label} is not after its exercise"


def test_lessons_have_their_sections_and_two_to_four_exercises():
    for page in LESSONS:
        text = (COURSE / page).read_text(encoding="utf-8")
        for heading in ("## Learning goals", "## Prerequisites", "## Time", "## Exercises"):
            assert heading in text, f"{page} lacks the section {heading!r}"
        n = int(page[7:9])
        labels = [b.label for b in parse(COURSE / page) if b.kind == "exercise"]
        assert 2 <= len(labels) <= 4, f"{page}: {len(labels)} exercises"
        assert all(re.fullmatch(rf"ex-{n:02d}-\d+", x) for x in labels), f"{page}: labels {labels}"


def test_every_solution_has_python_code_that_compiles():
    for label, code in solutions():
        assert code.strip(), f"solution {label} has no ```python block"
        compile(code, f"<solution {label}>", "exec")


# ---------------------------------------------------------------------------- every solution runs
def missing_quick_build():
    """Why the quick preset's build folder cannot serve the solutions ('' when it can)."""
    if not (QUICK / "runs").is_dir():
        return "build/quick/runs is absent: run `make quick` first"
    from softlib.pipeline.presets import get_preset

    P = get_preset("quick")
    need = [QUICK / "rearrangements_tables.npz"]
    for plan in P.plans():
        need += [QUICK / "runs" / plan.tag / "run.json", QUICK / "softness" / plan.tag / "linear.json",
                 QUICK / "softness" / plan.tag / "log.json", QUICK / "structure" / f"T{plan.T:.3f}.npz"]
    gone = [str(p.relative_to(ROOT)) for p in need if not p.exists()]
    return f"the quick build is incomplete (no {', '.join(gone[:3])}): run `make quick`" if gone else ""


@pytest.mark.parametrize("label, code", solutions(), ids=[s[0] for s in solutions()])
def test_solution_runs(label, code, monkeypatch):
    """Time per solution: ``pytest tests/test_course.py -k solution --durations=0``."""
    if any(s in code for s in NEEDS_BUILD):
        why = missing_quick_build()
        if why:
            pytest.skip(f"solution {label} reads build/quick; {why}")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*non-interactive.*", category=UserWarning)
        try:
            exec(compile(code, f"<solution {label}>", "exec"), {"__name__": "__main__"})  # noqa: S102
        finally:
            plt.close("all")
