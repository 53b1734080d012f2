"""softlib.pipeline.stages.compute_run_softness and softlib.io.softness_store: streamed, resumable, read back."""
import json

import numpy as np
import pytest

from helpers import ka_fluid

from softlib.analysis import local_softness as lc
from softlib.io import softness_store as store
from softlib.io.gsd import GSDWriter
from softlib.pipeline import stages



# --------------------------------------------------------------------------- storage and driver
def _fake_run(tmp_path, n_frames=7):

    pos, species, box = ka_fluid(150, 9)
    run = tmp_path / "runs" / "T0.600_s0"
    run.mkdir(parents=True)
    rng = np.random.default_rng(1)
    with GSDWriter(run / "linear.gsd", species, box) as w:
        for k in range(n_frames):
            w.append(k * 40, k * 0.1, pos + rng.normal(0, 0.02, pos.shape) + k * 0.01)
    (run / "run.json").write_text(json.dumps({"plan": {"T": 0.6}, "complete": True}))
    cal = {"c0": 60.0, "c1": 5.0, "smeared": {"c0": 50.0, "c1": 4.0, "delta": 0.09},
           "per_temperature": {"0.600": {"limits": {"AA": [0.88, 1.42], "AB": [0.73, 1.22]}}}}
    return run, cal, species, box


def test_driver_writes_resumes_and_reads(tmp_path, monkeypatch):
    run, cal, species, box = _fake_run(tmp_path)
    out = tmp_path / "softness" / "T0.600_s0"
    full = stages.compute_run_softness(run, out, cal, schedule="linear", chunk=3, progress=False)
    ref = store.read_softness(out, "linear", mmap=False)
    assert ref["depth"].dtype == np.float32 and ref["depth"].shape == (7, 120)
    assert full["linear"]["n_nonpositive"] == ref["n_nonpositive"]
    # the stored numbers are what local_depth / local_softness give for the frames as read
    import gsd.hoomd

    with gsd.hoomd.open(str(run / "linear.gsd")) as f:
        p3 = np.asarray(f[3].particles.position, float) + f[3].particles.image * box
    d3 = lc.local_depth(p3, species, box, 0.6, lc.softness_parameters(cal, 0.6)["limits"])
    np.testing.assert_allclose(ref["depth"][3], d3, rtol=1e-6)
    np.testing.assert_allclose(ref["softness"][3], lc.local_softness(d3, 60.0, 5.0)[0], rtol=1e-6)
    np.testing.assert_allclose(ref["times"], np.arange(7) * 0.1)

    # interrupted run: fail in the second chunk, then resume from the partial files
    out2 = tmp_path / "softness2"
    calls = []
    real = lc.local_depth

    def flaky(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(stages, "local_depth", flaky)
    with pytest.raises(KeyboardInterrupt):
        stages.compute_run_softness(run, out2, cal, schedule="linear", chunk=3, progress=False)
    with pytest.raises(ValueError, match="resume"):
        store.read_softness(out2, "linear")
    assert not (out2 / "linear.depth.npy").exists()  # nothing that looks complete
    stages.compute_run_softness(run, out2, cal, schedule="linear", chunk=3, progress=False)
    assert len(calls) == 4  # chunks 2 and 3 recomputed, chunk 1 kept
    res = store.read_softness(out2, "linear", mmap=False)
    np.testing.assert_array_equal(res["depth"], ref["depth"])
    # a finished computation is not redone; changed parameters start over
    stages.compute_run_softness(run, out2, cal, schedule="linear", chunk=3, progress=False)
    assert len(calls) == 4
    stages.compute_run_softness(run, out2, cal, schedule="linear", chunk=3, progress=False, variant="smeared")
    assert len(calls) == 7
    sm = store.read_softness(out2, "linear")
    assert sm["key"]["variant"] == "smeared"
    np.testing.assert_allclose(sm["softness"], lc.local_softness(ref["depth"].astype(float), 50.0, 4.0)[0],
                               rtol=1e-5)


def test_driver_rejects_incomplete_run_and_missing_calibration(tmp_path):
    run, cal, _, _ = _fake_run(tmp_path)
    with pytest.raises(ValueError, match="calibration file"):
        stages.compute_run_softness(run, tmp_path / "o", tmp_path / "nope.json", progress=False)
    (run / "run.json").unlink()
    with pytest.raises(ValueError, match="not complete"):
        stages.compute_run_softness(run, tmp_path / "o", cal, progress=False)
