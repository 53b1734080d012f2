"""Nothing silently wrong: one bad input per case, the exact exception and a message that names the problem.

Every case builds its own bad input (files written into tmp_path: LAMMPS dumps as text, gzip files
cut short by slicing bytes, JSON written half, .npy truncated) and checks the error, never a number
computed by the code under test.
"""
from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pytest
from helpers import ka_fluid, pair_distances

from softlib import _checks
from softlib.analysis import caging as cg
from softlib.analysis import lifetime as lt
from softlib.analysis import local_softness as lc
from softlib.analysis import structure as st
from softlib.io import softness_store as ss
from softlib.io.store import read_json, write_json
from softlib.io.trajectory import load

LIMITS = {"AA": (0.88, 1.42), "AB": (0.73, 1.22)}
N_A, N_B = 22, 5


# --------------------------------------------------------------------------- builders
def _lattice():
    """27 particles on a simple cubic lattice of spacing 2 (box 6): no pair closer than 2."""
    g = np.stack(np.meshgrid(*[np.arange(3)] * 3, indexing="ij"), -1).reshape(-1, 3) * 2.0 + 0.5
    return g.astype(float)


def _dump_text(frames, types, box=6.0, cols="id type x y z", images=False):
    lines = []
    for k, p in enumerate(frames):
        lines += ["ITEM: TIMESTEP", str(100 * k), "ITEM: NUMBER OF ATOMS", str(len(p)),
                  "ITEM: BOX BOUNDS pp pp pp"] + [f"0 {box}"] * 3 + [f"ITEM: ATOMS {cols}"]
        for i, (x, y, z) in enumerate(p):
            lines.append(f"{i + 1} {types[i]} {x} {y} {z}" + (" 0 0 0" if images else ""))
    return "\n".join(lines) + "\n"


def _frames(bad=None):
    """Three frames of the lattice moving slowly; ``bad`` = (frame, particle, value) poisons one coordinate."""
    fr = [_lattice() + 0.01 * k for k in range(3)]
    if bad is not None:
        f, i, v = bad
        fr[f][i, 0] = v
    return fr


TYPES = [1] * N_A + [2] * N_B


def _write(tmp_path, name, text):
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


# --------------------------------------------------------------------------- reader cases
def _dump_nan(tmp_path):
    p = _write(tmp_path, "nan.lammpstrj", _dump_text(_frames((1, 24, np.nan)), TYPES))
    load(p, timestep=0.01)


def _dump_inf(tmp_path):
    p = _write(tmp_path, "inf.lammpstrj", _dump_text(_frames((2, 3, np.inf)), TYPES))
    _ = load(p, timestep=0.01).positions


def _dump_nan_unwrapped_columns(tmp_path):
    p = _write(tmp_path, "nanu.lammpstrj", _dump_text(_frames((1, 24, np.nan)), TYPES, cols="id type xu yu zu"))
    _ = load(p, timestep=0.01).positions


def _dump_nan_with_images(tmp_path):
    p = _write(tmp_path, "nani.lammpstrj",
               _dump_text(_frames((1, 24, np.nan)), TYPES, cols="id type x y z ix iy iz", images=True))
    _ = load(p, timestep=0.01)[1:].positions


def _dump_empty(tmp_path):
    load(_write(tmp_path, "empty.lammpstrj", ""), timestep=0.01)


def _dump_empty_gz(tmp_path):
    load(_write(tmp_path, "empty.lammpstrj.gz", b""), timestep=0.01)


def _dump_truncated_gz(tmp_path):
    data = gzip.compress(_dump_text(_frames(), TYPES).encode())
    load(_write(tmp_path, "cut.lammpstrj.gz", data[: len(data) // 2]), timestep=0.01)


def _dump_truncated_gz_tail(tmp_path):
    data = gzip.compress(_dump_text(_frames(), TYPES).encode())
    load(_write(tmp_path, "cut.lammpstrj.gz", data[:-12]), timestep=0.01)  # the stream's end marker is lost


def _dump_unknown_species_name(tmp_path):
    p = _write(tmp_path, "lbl.lammpstrj", _dump_text(_frames(), ["LJA"] * N_A + ["LJB"] * N_B))
    load(p, timestep=0.01, species={"LJA": "A", "LJB": "C"})


# --------------------------------------------------------------------------- JSON products
def _half_json(tmp_path, name, obj):
    text = json.dumps(obj, indent=1)
    return _write(tmp_path, name, text[: len(text) // 2])


def _run_json_half(tmp_path):
    read_json(_half_json(tmp_path, "run.json", {"plan": {"T": 0.6, "steps": list(range(20))}, "complete": True}))


def _rearrangements_json_half(tmp_path):
    read_json(_half_json(tmp_path, "rearrangements.json", {"per_temperature": {"0.600": list(range(30))}}))


def _calibration_json_half(tmp_path):
    cg.load_calibration(_half_json(tmp_path, "calibration.json", {"c0": 1.0, "c1": 2.0, "x": list(range(30))}))


def _softness(tmp_path, n_frames=4, n_a=6):
    folder = tmp_path / "soft"
    rng = np.random.default_rng(0)
    depth = rng.normal(-3, 1, (n_frames, n_a)).astype(np.float32)
    soft = rng.uniform(0.01, 0.02, (n_frames, n_a)).astype(np.float32)
    ss.write_softness(folder, "linear", np.arange(n_frames) * 0.1, depth, soft, np.arange(n_a), 0, key={"T": 0.6})
    return folder, depth, soft


def _softness_sidecar_half(tmp_path):
    folder, _, _ = _softness(tmp_path)
    side = folder / "linear.json"
    text = side.read_text()
    side.write_text(text[: len(text) // 2])
    ss.read_softness(folder, "linear")


def _softness_npy_truncated(tmp_path):
    folder, _, _ = _softness(tmp_path)
    npy = folder / "linear.softness.npy"
    data = npy.read_bytes()
    npy.write_bytes(data[: len(data) - 40])
    ss.read_softness(folder, "linear")


def _softness_npy_truncated_no_mmap(tmp_path):
    folder, _, _ = _softness(tmp_path)
    npy = folder / "linear.depth.npy"
    npy.write_bytes(npy.read_bytes()[:100])
    ss.read_softness(folder, "linear", mmap=False)


# --------------------------------------------------------------------------- calibration
def _cal(**over):
    cal = {"c0": 60.0, "c1": 5.0, "smeared": {"c0": 50.0, "c1": 4.0, "delta": 0.09},
           "per_temperature": {"0.600": {"limits": {"AA": [0.88, 1.42], "AB": [0.73, 1.22]}}}}
    cal.update(over)
    return cal


def _cal_file(tmp_path, cal):
    full = {k: 0.0 for k in cg.CALIBRATION_KEYS}
    full.update(temperatures=[0.6], provenance={}, r2={}, **cal)
    p = tmp_path / "calibration.json"
    write_json(p, full)
    return p


def _c0_string_params(tmp_path):
    lc.softness_parameters(_cal(c0="sixty"), 0.6)


def _c0_none_params(tmp_path):
    lc.softness_parameters(_cal(c0=None), 0.6)


def _c0_string_smeared(tmp_path):
    lc.softness_parameters(_cal(smeared={"c0": "x", "c1": 4.0}), 0.6, variant="smeared")


def _c0_string_file(tmp_path):
    cg.load_calibration(_cal_file(tmp_path, _cal(c0="sixty")))


def _c0_list_file(tmp_path):
    cg.load_calibration(_cal_file(tmp_path, _cal(c1=[5.0])))


def _local_softness_c0_string(tmp_path):
    lc.local_softness(np.array([-3.0, -2.0]), "60", 5.0)


def _limits_missing_params(tmp_path):
    lc.softness_parameters(_cal(per_temperature={"0.600": {"S_av": 0.1}}), 0.6)


def _limits_missing_file(tmp_path):
    cg.load_calibration(_cal_file(tmp_path, _cal(per_temperature={"0.600": {"S_av": 0.1}})))


# --------------------------------------------------------------------------- q range, temperature
def _q_grid(q_max, n=400):
    """A smooth KA-like S(q) (peak near 7.2, -> delta_uv) on (0, q_max]: independent of softlib."""
    q = np.linspace(q_max / n, q_max, n)
    bump = 1.0 + 1.8 * np.exp(-((q - 7.2) ** 2) / 0.8) - 0.9 * np.exp(-q)
    S = np.zeros((n, 2, 2))
    S[:, 0, 0], S[:, 1, 1], S[:, 0, 1] = bump, 1.0 + 0.3 * (bump - 1.0), 0.2 * (bump - 1.0)
    S[:, 1, 0] = S[:, 0, 1]
    return q, S


def _sq_qmax_1(tmp_path):
    pos, sp, box = ka_fluid(200, 1)
    st.partial_structure_factor(pos, q_max=1.0, species=sp, box=box)


def _sq_qmax_5(tmp_path):
    pos, sp, box = ka_fluid(200, 1)
    st.partial_structure_factor(pos, q_max=5.0, species=sp, box=box)


def _depth_qmax_3(tmp_path):
    cg.caging_depth(*_q_grid(3.0))


def _softness_fit_qmax_3(tmp_path):
    cg.softness_fit(*_q_grid(3.0))


def _curvature_qmax_10(tmp_path):
    cg.softness_curvature(*_q_grid(10.0))


def _t_zero_local_depth(tmp_path):
    pos, sp, box = ka_fluid(200, 1)
    lc.local_depth(pos, sp, box, 0.0, LIMITS)


def _t_zero_params(tmp_path):
    lc.softness_parameters(_cal(), 0)


def _t_zero_real_space(tmp_path):
    r = np.linspace(0.005, 2.995, 300)
    g = np.ones((2, 2, r.size))
    cg.real_space_depth(r, g, 0.0, LIMITS)


# --------------------------------------------------------------------------- positions into analyses
def _fluid_with(i, value):
    pos, sp, box = ka_fluid(200, 1)
    pos = pos.copy()
    pos[i, 1] = value
    return pos, sp, box


def _b_index():
    return int(np.flatnonzero(ka_fluid(200, 1)[1] == 1)[0])


class _FakeTrajectory:
    """Duck-typed Trajectory whose frames were never validated (the Trajectory path of structure)."""

    def __init__(self, frames, species, box):
        self._p, self.species, self.box = np.asarray(frames), species, box
        self.n_frames, self.n_particles = len(frames), len(species)

    def iter_chunks(self, n):
        for a in range(0, self.n_frames, n):
            yield type("Chunk", (), {"positions": self._p[a:a + n]})()


def _rdf_nan_b(tmp_path):
    pos, sp, box = _fluid_with(_b_index(), np.nan)
    st.partial_rdf(pos, species=sp, box=box)


def _rdf_nan_trajectory_path(tmp_path):
    pos, sp, box = _fluid_with(_b_index(), np.nan)
    st.partial_rdf(_FakeTrajectory(pos[None], sp, box))


def _sq_nan_trajectory_path(tmp_path):
    pos, sp, box = _fluid_with(3, np.inf)
    st.partial_structure_factor(_FakeTrajectory(pos[None], sp, box), q_max=20.0)


def _overlap_nan_positions(tmp_path):
    pos, _, _ = _fluid_with(7, np.nan)
    lt.overlap(np.stack([pos, pos]), [0.0, 1.0], schedule="linear")


def _propagator_nan_positions(tmp_path):
    pos, _, _ = _fluid_with(0, np.nan)
    frames = np.stack([pos, pos, pos])
    s = np.full((3, len(pos)), 0.5)
    lt.propagator(s, frames, [0.0, 1.0, 2.0], [0, 1], [0, 1], schedule="linear")


def _duplicate(pos, i, j, offset=0.0):
    pos = pos.copy()
    pos[j] = pos[i] + offset
    return pos


def _rdf_duplicate_particle(tmp_path):
    pos, sp, box = ka_fluid(200, 1)
    st.partial_rdf(_duplicate(pos, 3, 10), species=sp, box=box)


def _sq_duplicate_particle_trajectory(tmp_path):
    pos, sp, box = ka_fluid(200, 1)
    st.partial_structure_factor(_FakeTrajectory(_duplicate(pos, 3, 10)[None], sp, box), q_max=20.0)


def _local_rdf_duplicate_particle(tmp_path):
    pos, sp, box = ka_fluid(200, 1)
    lc.local_rdf(_duplicate(pos, 3, 10), sp, box, np.linspace(0.5, 2.0, 20))


def _local_depth_close_pair(tmp_path):
    pos, sp, box = ka_fluid(200, 1)
    lc.local_depth(_duplicate(pos, 3, 10, offset=np.array([0.3, 0.0, 0.0])), sp, box, 0.6, LIMITS)


def _local_depth_close_pair_across_boundary(tmp_path):
    pos, sp, box = ka_fluid(200, 1)
    moved = _duplicate(pos, 3, 10, offset=np.array([0.2, 0.1, 0.0]) + box * np.array([1, 0, -2]))
    lc.local_depth(np.stack([pos, moved]), sp, box, 0.6, LIMITS)


def _species_unknown_name(tmp_path):
    _checks.as_species(["A", "B", "X"])


CASES = [
    # id, builder, exception, message pattern
    ("dump-nan", _dump_nan, ValueError, r"nan\.lammpstrj: frame 1, particle 24 .*non-finite"),
    ("dump-inf", _dump_inf, ValueError, r"inf\.lammpstrj: frame 2, particle 3 .*non-finite"),
    ("dump-nan-unwrapped-columns", _dump_nan_unwrapped_columns, ValueError,
     r"nanu\.lammpstrj: frame 1, particle 24 .*non-finite"),
    ("dump-nan-image-flags", _dump_nan_with_images, ValueError, r"nani\.lammpstrj: frame 1, particle 24 .*non-finite"),
    ("dump-empty", _dump_empty, ValueError, r"empty\.lammpstrj is empty"),
    ("dump-empty-gz", _dump_empty_gz, ValueError, r"empty\.lammpstrj\.gz is empty"),
    ("dump-gz-truncated-half", _dump_truncated_gz, ValueError, r"cut\.lammpstrj\.gz: the compressed file is truncated"),
    ("dump-gz-truncated-tail", _dump_truncated_gz_tail, ValueError,
     r"cut\.lammpstrj\.gz: the compressed file is truncated"),
    ("dump-species-label-unknown", _dump_unknown_species_name, ValueError, r"unknown species \['C'\]"),
    ("species-unknown-name", _species_unknown_name, ValueError, r"unknown species \['X'\].*'A'"),
    ("json-run-half", _run_json_half, ValueError, r"run\.json is truncated or corrupt.*simulation"),
    ("json-rearrangements-half", _rearrangements_json_half, ValueError,
     r"rearrangements\.json is truncated or corrupt.*05_rearrangements"),
    ("json-calibration-half", _calibration_json_half, ValueError,
     r"calibration\.json is truncated or corrupt.*02_calibrate"),
    ("json-softness-sidecar-half", _softness_sidecar_half, ValueError,
     r"linear\.json is truncated or corrupt.*compute_run_softness"),
    ("npy-softness-truncated", _softness_npy_truncated, ValueError,
     r"linear\.softness\.npy is truncated or corrupt.*compute_run_softness"),
    ("npy-depth-truncated-no-mmap", _softness_npy_truncated_no_mmap, ValueError,
     r"linear\.depth\.npy is truncated or corrupt.*compute_run_softness"),
    ("calibration-c0-string", _c0_string_params, ValueError, r"c0 = 'sixty'.*finite numbers"),
    ("calibration-c0-none", _c0_none_params, ValueError, r"c0 = None.*finite numbers"),
    ("calibration-smeared-c0-string", _c0_string_smeared, ValueError, r"\(smeared\): c0 = 'x'"),
    ("calibration-file-c0-string", _c0_string_file, ValueError, r"calibration\.json: c0 = 'sixty' is not a finite"),
    ("calibration-file-c1-list", _c0_list_file, ValueError, r"calibration\.json: c1 = \[5\.0\] is not a finite"),
    ("local-softness-c0-string", _local_softness_c0_string, ValueError, r"c0, c1 must be finite numbers"),
    ("calibration-limits-missing", _limits_missing_params, ValueError, r"no integration limits .*T = 0\.600"),
    ("calibration-file-limits-missing", _limits_missing_file, ValueError,
     r"calibration\.json: temperature 0\.600 has no integration limits"),
    ("sq-qmax-1", _sq_qmax_1, ValueError, r"q_max = 1\.0 is below the first peak of S\(q\).*q_max >= 20"),
    ("sq-qmax-5", _sq_qmax_5, ValueError, r"q_max = 5\.0 is below the first peak"),
    ("depth-qmax-3", _depth_qmax_3, ValueError, r"q_max = 3 .*well past its main peak"),
    ("softness-fit-qmax-3", _softness_fit_qmax_3, ValueError, r"q_max = 3 .*well past its main peak"),
    ("curvature-qmax-10", _curvature_qmax_10, ValueError, r"q_max = 10 .*q_max >= 15"),
    ("rdf-nan-trajectory-path", _rdf_nan_trajectory_path, ValueError, r"NaN or inf"),
    ("sq-inf-trajectory-path", _sq_nan_trajectory_path, ValueError, r"NaN or inf"),
    ("overlap-Q-nan", _overlap_nan_positions, ValueError, r"NaN or inf"),
    ("propagator-nan", _propagator_nan_positions, ValueError, r"NaN or inf"),
    ("rdf-duplicate-particle", _rdf_duplicate_particle, ValueError, r"particles 3 and 10 are 0 sigma_AA apart"),
    ("sq-duplicate-particle-trajectory", _sq_duplicate_particle_trajectory, ValueError,
     r"frame 0, particles 3 and 10 are 0 sigma_AA apart"),
    ("local-rdf-duplicate-particle", _local_rdf_duplicate_particle, ValueError, r"particles 3 and 10 .*overlapping"),
    ("local-depth-pair-at-0.3", _local_depth_close_pair, ValueError, r"particles 3 and 10 are 0\.3 sigma_AA apart"),
    ("local-depth-pair-across-boundary", _local_depth_close_pair_across_boundary, ValueError,
     r"frame 1, particles 3 and 10 are 0\.224 sigma_AA apart"),
]


@pytest.mark.parametrize("build, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly(tmp_path, build, exc, match):
    with pytest.raises(exc, match=match):
        build(tmp_path)


#: guards of entries that were already clear before (each of CASES failed on commit 22e2eab; these passed)
GUARDS = [
    ("T0-local-depth", _t_zero_local_depth, ValueError, r"temperature must be positive"),
    ("T0-softness-parameters", _t_zero_params, ValueError, r"temperature must be positive"),
    ("T0-real-space-depth", _t_zero_real_space, ValueError, r"temperature must be positive"),
    ("rdf-nan-b-particle-arrays", _rdf_nan_b, ValueError, r"NaN or inf"),
]


@pytest.mark.parametrize("build, exc, match", [c[1:] for c in GUARDS], ids=[c[0] for c in GUARDS])
def test_already_clear_entries_stay_clear(tmp_path, build, exc, match):
    with pytest.raises(exc, match=match):
        build(tmp_path)


# --------------------------------------------------------------------------- accepted now (TypeError before)
@pytest.mark.parametrize("species", [{"LJA": "A", "LJB": "B"}, {"LJA": "a", "LJB": "b"}],
                         ids=["labels-to-names", "labels-to-lowercase"])
def test_lammps_type_labels_are_accepted(tmp_path, species):
    p = _write(tmp_path, "lbl.lammpstrj", _dump_text(_frames(), ["LJA"] * N_A + ["LJB"] * N_B))
    t = load(p, timestep=0.01, species=species)
    np.testing.assert_array_equal(t.species, [0] * N_A + [1] * N_B)
    np.testing.assert_allclose(t.positions[2], _lattice() + 0.02, atol=1e-5)  # float32 in MDAnalysis


@pytest.mark.parametrize("species", [["A", "B", "A"], np.array(["a", "b", "a"]), [b"A", b"B", b"A"], ["0", "1", "0"]],
                         ids=["str-list", "lowercase-array", "bytes", "digit-strings"])
def test_species_names_map_to_0_1(species):
    np.testing.assert_array_equal(_checks.as_species(species), [0, 1, 0])


def test_species_strings_reach_the_analysis():
    pos, sp, box = ka_fluid(200, 1)
    names = np.where(sp == 0, "A", "B")
    _, g1 = st.partial_rdf(pos, r_max=2.0, species=names, box=box)
    _, g2 = st.partial_rdf(pos, r_max=2.0, species=sp, box=box)
    np.testing.assert_array_equal(g1, g2)


# --------------------------------------------------------------------------- kernels and NaN
@pytest.mark.parametrize("path", ["arrays", "trajectory"])
def test_nan_b_particle_never_reaches_the_histogram_kernel(monkeypatch, path):
    pos, sp, box = _fluid_with(_b_index(), np.nan)
    calls = []
    for name in ("_rdf_counts", "_rdf_counts_serial"):
        monkeypatch.setattr(st, name, lambda *a, **k: calls.append(a) or np.zeros((3, a[-2]), np.int64))
    with pytest.raises(ValueError, match="NaN or inf"):
        if path == "arrays":
            st.partial_rdf(pos, species=sp, box=box)
        else:
            st.partial_rdf(_FakeTrajectory(pos[None], sp, box))
    assert calls == []


def test_histogram_kernel_stays_in_bounds_on_nan():
    """Called directly (past the validation), the kernel drops NaN pairs into its overflow bin."""
    pos, sp, box = ka_fluid(200, 1)
    b = _b_index()
    bad = pos.copy()
    bad[b, 0] = np.nan
    nbins, dr = 200, 0.01
    hist = st._rdf_counts_serial(bad, sp, box, nbins * dr, dr, nbins, 1)
    # independent count: minimum-image distances of the pairs not involving particle b
    expected = np.zeros((3, nbins), np.int64)
    for i in range(len(pos)):
        if i == b:
            continue
        r = pair_distances(pos, box, i)
        for j in range(i + 1, len(pos)):
            if j != b and r[j] < nbins * dr:
                expected[sp[i] + sp[j], int(r[j] / dr)] += 1
    np.testing.assert_array_equal(hist, expected)


def test_overlap_threshold_spares_real_liquids_and_ideal_gases():
    """0.5 sigma_AA refuses nothing in a dense KA-like packing (closest pairs 0.75); 1e-3 spares an ideal gas."""
    pos, _, box = ka_fluid(500, 2)
    _checks.check_no_overlap(pos, box, _checks.MIN_PAIR_DISTANCE)
    gas = np.random.default_rng(0).uniform(0, 10, (5, 2000, 3))
    _checks.check_no_overlap(gas, 10.0, _checks.COINCIDENT)
    with pytest.raises(ValueError, match="frame 0, particles"):
        _checks.check_no_overlap(gas, 10.0, 0.5)


# --------------------------------------------------------------------------- softness store: finalize
def _writer_data(n_frames=5, n_a=4):
    rng = np.random.default_rng(7)
    return (np.arange(n_frames) * 0.5, np.arange(n_a) * 3, rng.normal(-3, 1, (n_frames, n_a)).astype(np.float32),
            rng.uniform(0.01, 0.02, (n_frames, n_a)).astype(np.float32))


@pytest.mark.parametrize("crash_at", [2, 3, 4], ids=["after-first-rename", "after-both-renames", "final-sidecar"])
def test_interrupted_finalize_resumes_without_recomputing(tmp_path, monkeypatch, crash_at):
    times, a_index, depth, soft = _writer_data()
    key = {"T": 0.6, "delta": 0.09}
    w = ss.SoftnessWriter(tmp_path, "linear", times, a_index, key)
    w.write(0, depth[:3], soft[:3], 1)
    w.write(3, depth[3:], soft[3:], 2)
    real, count = os.replace, []

    def flaky(src, dst):
        count.append(dst)
        if len(count) == crash_at:
            raise OSError("killed")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="killed"):
        w.finalize()
    monkeypatch.setattr(os, "replace", real)
    # nothing looks complete yet, and the reader says so instead of returning numbers
    with pytest.raises(ValueError, match="no complete softness"):
        ss.read_softness(tmp_path, "linear")
    (tmp_path / "linear.json.x1y2z3.tmp").write_text("{")  # a stray temp file of a killed atomic write
    w2 = ss.SoftnessWriter(tmp_path, "linear", times, a_index, key)
    assert w2.finalized and w2.complete and w2.n_done == 5  # completed, nothing to recompute
    assert w2.finalize() == tmp_path / "linear.json"
    out = ss.read_softness(tmp_path, "linear", mmap=False)
    np.testing.assert_array_equal(out["depth"], depth)
    np.testing.assert_array_equal(out["softness"], soft)
    assert out["n_nonpositive"] == 3 and out["key"] == key
    np.testing.assert_array_equal(out["a_index"], a_index)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["linear.depth.npy", "linear.json", "linear.softness.npy"]


def test_truncated_final_array_is_recomputed_not_trusted(tmp_path):
    times, a_index, depth, soft = _writer_data()
    ss.write_softness(tmp_path, "linear", times, depth, soft, a_index, 0, key={"T": 0.6})
    npy = tmp_path / "linear.depth.npy"
    npy.write_bytes(npy.read_bytes()[:-16])
    w = ss.SoftnessWriter(tmp_path, "linear", times, a_index, {"T": 0.6})
    assert not w.finalized and w.n_done == 0  # starts over instead of declaring the damaged set complete
    assert not (tmp_path / "linear.json").exists()


def test_different_key_after_interrupted_finalize_starts_over(tmp_path, monkeypatch):
    times, a_index, depth, soft = _writer_data()
    w = ss.SoftnessWriter(tmp_path, "linear", times, a_index, {"T": 0.6})
    w.write(0, depth, soft, 0)
    real, count = os.replace, []
    monkeypatch.setattr(os, "replace", lambda s, d: (count.append(d), real(s, d) if len(count) < 3 else
                                                     (_ for _ in ()).throw(OSError("killed")))[1])
    with pytest.raises(OSError):
        w.finalize()
    monkeypatch.setattr(os, "replace", real)
    w2 = ss.SoftnessWriter(tmp_path, "linear", times, a_index, {"T": 0.7})
    assert not w2.finalized and w2.n_done == 0
    assert not (tmp_path / "linear.depth.npy").exists() and not (tmp_path / "linear.softness.npy").exists()
