"""Wall time of every stage of a preset run, read from the executed notebooks (papermill metadata).

    python benchmarks/stage_times.py build/paper/nb [build/seed/nb ...] [--json data/paper/stage_times.json]

Simulations run several at once, so besides the sum of their notebook times we report the elapsed
span from the first start to the last end, which is what a reader waits for. A simulation that was
interrupted and resumed shows only its last notebook execution there; the engine's own clock
(``wall_seconds`` of its run.json, summed over resumes) is reported beside it.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def notebook_times(folder):
    """[(name, start, end, seconds)] of the executed notebooks in ``folder``."""
    rows = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
        if meta.get("start_time") and meta.get("end_time"):
            rows.append((path.stem, _when(meta["start_time"]), _when(meta["end_time"]), float(meta["duration"])))
    return rows


def stages(folders):
    """One entry per stage: simulations of a folder grouped, every other notebook on its own."""
    out = []
    for folder in folders:
        rows = notebook_times(folder)
        preset = Path(folder).parent.name
        sims = [r for r in rows if r[0].startswith("01_simulate")]
        if sims:
            span = (max(r[2] for r in sims) - min(r[1] for r in sims)).total_seconds()
            engine = {}
            for r in sims:
                run = Path(folder).parent / "runs" / r[0][len("01_simulate_"):] / "run.json"
                if run.exists():
                    engine[run.parent.name] = sum(json.loads(run.read_text())["wall_seconds"].values())
            out.append({"stage": f"{preset}: 01_simulate ({len(sims)} runs)", "elapsed_s": span,
                        "notebook_s": sum(r[3] for r in sims), "engine_s": engine})
        out += [{"stage": f"{preset}: {r[0]}", "elapsed_s": r[3], "notebook_s": r[3]}
                for r in rows if not r[0].startswith("01_simulate")]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", help="folders of executed notebooks (build/<preset>/nb)")
    ap.add_argument("--json", help="also write the table here (atomically, with provenance)")
    args = ap.parse_args(argv)
    rows = stages([f for f in args.folders if Path(f).is_dir()])
    print("| stage | elapsed | sum of notebook times | sum of engine times |\n| --- | ---: | ---: | ---: |")
    for r in rows:
        eng = f"{sum(r['engine_s'].values()) / 60:.1f} min" if r.get("engine_s") else ""
        print(f"| {r['stage']} | {r['elapsed_s'] / 60:.1f} min | {r['notebook_s'] / 60:.1f} min | {eng} |")
    print(f"| total (stages one after another) | {sum(r['elapsed_s'] for r in rows) / 60:.1f} min | |")
    if args.json:
        from softlib.io.store import provenance, write_json

        write_json(args.json, {"stages": rows, "provenance": provenance(script="benchmarks/stage_times.py")})


if __name__ == "__main__":
    main()
