"""softlib.io.trajectory.load on the common outputs of LAMMPS, HOOMD and GROMACS, each against a reference
written by another route: hand-written text dumps and DCDs (as LAMMPS writes them), MDAnalysis writers,
gsd.hoomd, and numbers computed by hand."""
import gzip
import struct
import tracemalloc
import warnings

import gsd.hoomd
import numpy as np
import pytest

from softlib.io import _lammps_dump
from softlib.io import trajectory as tr

import helpers

N, F = 40, 60
LO = np.array([-1.5, 0.25, -3.0])
L = np.array([4.0, 5.0, 6.0])
DT = 0.0025
SPECIES = np.r_[np.zeros(32, np.int32), np.ones(8, np.int32)]  # 80:20


@pytest.fixture(scope="module")
def truth():
    """Absolute unwrapped positions (F, N, 3) that cross the box several times, steps < L/4."""
    x = helpers.box_crossing_walk(N, F, lambda rng: LO + rng.uniform(0, 1, (N, 3)) * L, 0.3, 0.1, 11)
    assert np.median(np.abs(x[-1] - x[0]).max(axis=1)) > 2 * L.max()
    return x


def _columns(X, cols, lo=LO, box=L):
    """The numbers LAMMPS writes for the columns ``cols`` of absolute unwrapped positions X (N, 3)."""
    u = X - lo
    img = np.floor(u / box)
    scaled = u / box - img
    return {"xu yu zu": X, "xsu ysu zsu": u / box, "x y z": lo + scaled * box, "xs ys zs": scaled,
            "x y z ix iy iz": np.c_[lo + scaled * box, img], "xs ys zs ix iy iz": np.c_[scaled, img]}[cols]


def _write_dump(path, frames, types, cols, opener=open):
    """A LAMMPS dump written by hand: steps 0, 40, 80, ..., atoms in a shuffled order, numbers with 17 digits."""
    rng = np.random.default_rng(5)
    with opener(path, "wt") as f:
        for k, X in enumerate(frames):
            f.write(f"ITEM: TIMESTEP\n{40 * k}\nITEM: NUMBER OF ATOMS\n{len(X)}\nITEM: BOX BOUNDS pp pp pp\n"
                    + "".join(f"{float(a)!r} {float(b)!r}\n" for a, b in zip(LO, LO + L))
                    + f"ITEM: ATOMS id type {cols}\n")
            vals = _columns(X, cols)
            for j in rng.permutation(len(X)):
                f.write(f"{j + 1} {types[j]} " + " ".join(f"{v:.17g}" for v in vals[j]) + "\n")
    return path


def _box_as_read():
    """The box edges the reader gets from the written bounds: float(hi) - float(lo)."""
    return (LO + L) - LO


# --------------------------------------------------------------------------- 1. LAMMPS dump coordinates
@pytest.mark.parametrize("cols", ["xs ys zs ix iy iz", "x y z ix iy iz", "xu yu zu", "xsu ysu zsu"])
def test_dump_with_images_or_unwrapped_columns_is_exact(truth, tmp_path, cols):
    path = _write_dump(tmp_path / "d.lammpstrj", truth, SPECIES + 1, cols)
    t = tr.load(path, timestep=DT)
    np.testing.assert_allclose(t.positions, truth - LO, rtol=0, atol=1e-12)  # float64, box-corner origin
    np.testing.assert_allclose(t.times, 40 * DT * np.arange(F))
    if cols == "xs ys zs ix iy iz":  # dump atom + image yes: x = xs L + ix L, to the last bit
        Lr = _box_as_read()
        ref = np.array([_columns(X, cols) for X in truth])
        np.testing.assert_array_equal(t.positions, ref[..., :3] * Lr + ref[..., 3:] * Lr)


@pytest.mark.parametrize("cols", ["xs ys zs", "x y z"])
def test_dump_without_images_unwraps_by_continuity(truth, tmp_path, cols):
    """dump atom's default (scaled, no image flags): unwrapped by continuity, frame 0 inside the box."""
    path = _write_dump(tmp_path / "d.lammpstrj.gz", truth, SPECIES + 1, cols, opener=gzip.open)
    t = tr.load(path, timestep=DT)
    shift = np.floor((truth[0] - LO) / L) * L  # frame 0 is read as wrapped
    np.testing.assert_allclose(t.positions, truth - LO - shift, rtol=0, atol=1e-11)
    np.testing.assert_allclose(t[[5, 31, 59]].positions, t.positions[[5, 31, 59]], atol=0)


def test_mdanalysis_scaled_images_would_be_wrong(truth, tmp_path):
    """Why dumps are read here: MDAnalysis 2.x adds ix L to xs before scaling by L (xs L + ix L^2)."""
    mda = pytest.importorskip("MDAnalysis")
    path = _write_dump(tmp_path / "d.lammpstrj", truth[40:42], SPECIES + 1, "xs ys zs ix iy iz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = mda.Universe(str(path), format="LAMMPSDUMP", lammps_coordinate_convention="scaled",
                         unwrap_images=True)
    crossed = np.any(np.floor((truth[40] - LO) / L) != 0, axis=1)
    assert crossed.sum() > N / 2
    wrong = np.abs(u.atoms.positions - (truth[40] - LO)).max(axis=1)
    assert np.all(wrong[crossed] > 0.5)
    np.testing.assert_allclose(tr.load(path, timestep=DT).positions[0], truth[40] - LO, atol=1e-12)


def test_dump_time_items_and_units(truth, tmp_path):
    """dump_modify time yes / units yes: TIME gives the times and must agree with the timestep given."""
    items = "ITEM: UNITS\nlj\nITEM: TIME\n{t}\n"
    frames = truth[:4]
    path = tmp_path / "t.lammpstrj"
    with open(path, "w") as f:
        for k in range(4):
            f.write(items.format(t=repr(1.0 + 0.1 * k)))
            f.write(_write_one(frames[k], 1000 + 40 * k))
    np.testing.assert_allclose(tr.load(path).times, 1.0 + 0.1 * np.arange(4))
    np.testing.assert_allclose(tr.load(path, timestep=DT).times, (1000 + 40 * np.arange(4)) * DT)
    with pytest.raises(ValueError, match=r"TIME items .* disagree .* timestep 0\.005"):
        tr.load(path, timestep=0.005)
    real = tmp_path / "real.lammpstrj"
    real.write_text("ITEM: UNITS\nreal\n" + _write_one(frames[0], 0))
    with pytest.raises(ValueError, match="units 'real', not 'lj'.*sigma_AA"):
        tr.load(real, timestep=DT)


def _write_one(X, step, cols="xu yu zu", lo=LO, box=L):
    vals = _columns(X, cols, lo, box)
    return (f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{len(X)}\nITEM: BOX BOUNDS pp pp pp\n"
            + "".join(f"{float(a)!r} {float(b)!r}\n" for a, b in zip(lo, lo + box)) + f"ITEM: ATOMS id type {cols}\n"
            + "".join(f"{j + 1} {SPECIES[j] + 1} " + " ".join(f"{v:.17g}" for v in vals[j]) + "\n"
                      for j in range(len(X))))


def test_dump_without_ids_or_periodic_box_is_refused(truth, tmp_path):
    p = tmp_path / "noid.lammpstrj"
    p.write_text(_write_one(truth[0], 0).replace("ATOMS id type", "ATOMS type type2", 1))
    with pytest.raises(ValueError, match="no 'id' column.*any order"):
        tr.load(p, timestep=DT)
    p = tmp_path / "ff.lammpstrj"
    p.write_text(_write_one(truth[0], 0).replace("BOUNDS pp pp pp", "BOUNDS ff pp pp"))
    with pytest.raises(ValueError, match="not periodic"):
        tr.load(p, timestep=DT)


# --------------------------------------------------------------------------- 2. LAMMPS dump dcd
def _write_lammps_dcd(path, frames, box, istart, nsavc, delta):
    """A DCD as LAMMPS' dump dcd writes it (src/dump_dcd.cpp): a CHARMM header holding istart (step of the
    first frame), nsavc (steps between frames) and the timestep as float32; per frame the cell, then float32
    x, y, z. Coordinates wrapped into [0, L)."""
    def rec(b):
        return struct.pack("<i", len(b)) + b + struct.pack("<i", len(b))

    n = frames.shape[1]
    head = (b"CORD" + struct.pack("<9i", len(frames), istart, nsavc, istart + nsavc * (len(frames) - 1), 0, 0, 0, 0, 0)
            + struct.pack("<f", delta) + struct.pack("<10i", 1, 0, 0, 0, 0, 0, 0, 0, 0, 24))
    title = struct.pack("<i", 2) + b"LAMMPS (hand-written)".ljust(80) + b"REMARKS Created by a test".ljust(80)
    out = rec(head) + rec(title) + rec(struct.pack("<i", n))
    for X in frames:
        w = np.mod(X, box)
        out += rec(struct.pack("<6d", box[0], 0.0, box[1], 0.0, 0.0, box[2]))
        out += b"".join(rec(w[:, d].astype("<f4").tobytes()) for d in range(3))
    path.write_bytes(out)
    return path


def test_lammps_dcd_times_come_from_its_header(truth, tmp_path):
    path = _write_lammps_dcd(tmp_path / "d.dcd", truth[:20] - LO, L, istart=1000, nsavc=40, delta=DT)
    expect = (1000 + 40 * np.arange(20)) * DT
    t = tr.load(path, species=SPECIES)
    np.testing.assert_allclose(t.times, expect, rtol=1e-12)  # not MDAnalysis' AKMA-converted ts.time
    np.testing.assert_allclose(tr.load(path, species=SPECIES, timestep=DT).times, expect, rtol=1e-12)
    d = t.positions - (truth[:20] - LO)
    np.testing.assert_allclose(d - d[:1], 0.0, atol=2e-5)  # float32, unwrapped by continuity
    with pytest.raises(ValueError, match=r"header's timestep 0\.0025 disagrees .* 0\.005"):
        tr.load(path, species=SPECIES, timestep=0.005)


def test_dcd_without_timestep_or_interval_in_its_header(truth, tmp_path):
    hoomd = _write_lammps_dcd(tmp_path / "h.dcd", truth[:5] - LO, L, istart=0, nsavc=100, delta=0.0)
    with pytest.raises(ValueError, match=r"no timestep .*timestep = 0\.0025 in the data set"):
        tr.load(hoomd, species=SPECIES)
    np.testing.assert_allclose(tr.load(hoomd, species=SPECIES, timestep=0.005).times, 0.5 * np.arange(5))
    bare = _write_lammps_dcd(tmp_path / "b.dcd", truth[:5] - LO, L, istart=0, nsavc=0, delta=DT)
    with pytest.raises(ValueError, match="no frame interval"):
        tr.load(bare, species=SPECIES, timestep=DT)


# --------------------------------------------------------------------------- 3. species
@pytest.mark.parametrize("names, swapped", [(("2", "1"), True), (("1", "2"), False), (("LJB", "LJA"), True),
                                            (("big", "small"), False)])
def test_majority_type_is_A_whatever_its_name(truth, tmp_path, names, swapped):
    """SPECIES 0 (32 particles) gets names[0]: it must come back as A."""
    types = np.where(SPECIES == 0, names[0], names[1])
    t = tr.load(_write_dump(tmp_path / "d.lammpstrj", truth[:2], types, "xu yu zu"), timestep=DT)
    np.testing.assert_array_equal(t.species, SPECIES)
    assert t.type_map == {names[0]: 0, names[1]: 1} and t.species_swapped is swapped


def test_hoomd_gsd_with_majority_B_maps_it_to_A(truth, tmp_path):
    path = tmp_path / "h.gsd"
    with gsd.hoomd.open(path, mode="w") as f:
        for k in range(3):
            fr = gsd.hoomd.Frame()
            fr.configuration.step, fr.configuration.box = 100 * k, [*L, 0, 0, 0]
            u = truth[k] - LO - L / 2
            img = np.floor((u + L / 2) / L)
            fr.particles.N, fr.particles.types = N, ["A", "B"]
            fr.particles.typeid = (1 - SPECIES).astype(np.uint32)  # 'B' is the 80 %
            fr.particles.position, fr.particles.image = (u - img * L).astype(np.float32), img.astype(np.int32)
            f.append(fr)
    t = tr.load(path, timestep=DT)
    np.testing.assert_array_equal(t.species, SPECIES)
    assert t.species_swapped and t.type_map == {"B": 0, "A": 1}
    np.testing.assert_allclose(t.positions, truth[:3] - LO - L / 2, atol=2e-5)


def test_composition_far_from_80_20_needs_an_explicit_mapping(truth, tmp_path):
    half = np.r_[np.ones(20, int), np.full(20, 2)]
    path = _write_dump(tmp_path / "h.lammpstrj", truth[:2], half, "xu yu zu")
    with pytest.raises(ValueError, match=r"50:50 mixture, not the Kob-Andersen 80:20.*species=.*"
                                         r'species = \{1 = "A", 2 = "B"\}'):
        tr.load(path, timestep=DT)
    t = tr.load(path, timestep=DT, species={"1": 0, "2": 1})  # a data set's species = {1 = "A", 2 = "B"}
    np.testing.assert_array_equal(t.species, half - 1)
    assert t.type_map == {"1": 0, "2": 1}
    three = np.where(np.arange(N) < 30, 1, np.where(np.arange(N) < 35, 2, 3))
    path = _write_dump(tmp_path / "3.lammpstrj", truth[:2], three, "xu yu zu")
    with pytest.raises(ValueError, match=r"3 particle types '1' \(30\), '2' \(5\), '3' \(5\).*exactly two"):
        tr.load(path, timestep=DT)
    t = tr.load(path, timestep=DT, species={1: "A", 2: "B", 3: "B"})
    np.testing.assert_array_equal(t.species, (three > 1).astype(int))


# --------------------------------------------------------------------------- 4. GROMACS XTC / TRR in nm
def _mda_write(path, frames, box, **kw):
    mda = pytest.importorskip("MDAnalysis")
    u = mda.Universe.empty(frames.shape[1], trajectory=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mda.Writer(str(path), frames.shape[1], **kw) as w:
            for k, X in enumerate(frames):
                u.atoms.positions = np.mod(X, box)
                u.dimensions = [*box, 90, 90, 90]
                u.trajectory.ts.time, u.trajectory.ts.data["step"] = 0.1 * k, 40 * k
                w.write(u.atoms)
    return path


@pytest.mark.parametrize("ext", ["xtc", "trr"])
def test_gromacs_files_must_hold_reduced_units(ext, tmp_path):
    """A KA box (rho = 1.2) in sigma; MDAnalysis' default writer takes the numbers as Angstrom and stores nm."""
    n = 250
    box = np.full(3, (n / 1.2) ** (1 / 3))
    rng = np.random.default_rng(2)
    frames = rng.uniform(0, 1, (1, n, 3)) * box + np.cumsum(rng.normal(0, 0.05, (4, n, 3)), axis=0)
    sp = np.r_[np.zeros(200, int), np.ones(50, int)]
    nm = _mda_write(tmp_path / f"nm.{ext}", frames, box)
    with pytest.raises(ValueError, match=r"N/V = 1200 particles per nm\^3 is not a density in reduced units.*"
                                         r"0\.1x those.*stores nm.*convert_units=False"):
        tr.load(nm, species=sp)
    # numbers 10x as Angstrom: stored in nm = sigma (MDAnalysis' TRR writer fails with convert_units=False)
    ok = tr.load(_mda_write(tmp_path / f"sigma.{ext}", 10 * frames, 10 * box), species=sp)
    np.testing.assert_allclose(ok.box, box, rtol=1e-6)
    d = ok.positions - frames
    np.testing.assert_allclose(d - d[:1], 0.0, atol=2e-3 if ext == "xtc" else 2e-5)
    np.testing.assert_allclose(tr.load(tmp_path / f"sigma.{ext}", species=sp, timestep=DT).times,
                               40 * DT * np.arange(4))


def test_dump_and_dcd_in_angstrom_are_refused(truth, tmp_path):
    """A LAMMPS 'units real' run of the same liquid (sigma_AA = 3.405 Angstrom) without an ITEM: UNITS line."""
    s = 3.405
    p = tmp_path / "real.lammpstrj"
    p.write_text(_write_one(s * truth[0], 0, lo=s * LO, box=s * L))
    with pytest.raises(ValueError, match=r"N/V = 0\.0\d+ particles per length unit\^3 .*units real"):
        tr.load(p, timestep=DT)
    dcd = _write_lammps_dcd(tmp_path / "real.dcd", s * (truth[:3] - LO), s * L, istart=0, nsavc=10, delta=2.0)
    with pytest.raises(ValueError, match=r"not a density in reduced units.*units real"):
        tr.load(dcd, species=SPECIES)


# --------------------------------------------------------------------------- 5. H5MD without topology
def test_h5md_without_topology(truth, tmp_path):
    pytest.importorskip("h5py")
    path = _mda_write(tmp_path / "t.h5md", truth[:5] - LO, L, convert_units=False)
    with pytest.raises(ValueError, match=r"H5MD file read without topology= .*pass topology= .*or species="):
        tr.load(path)
    t = tr.load(path, species=SPECIES)
    np.testing.assert_allclose(t.times, 0.1 * np.arange(5), rtol=1e-6)
    d = t.positions - (truth[:5] - LO)
    np.testing.assert_allclose(d - d[:1], 0.0, atol=2e-5)


# --------------------------------------------------------------------------- 6. gzip: streamed, one pass
def test_gzipped_dump_is_streamed_and_scanned_once(tmp_path, monkeypatch):
    n, frames = 500, 120
    rng = np.random.default_rng(4)
    Lb = (n / 1.2) ** (1 / 3)
    x = np.cumsum(rng.normal(0, 0.05, (frames, n, 3)), axis=0) + rng.uniform(0, Lb, (n, 3))
    types = np.where(np.arange(n) < 400, 1, 2)
    path = tmp_path / "big.lammpstrj.gz"
    with gzip.open(path, "wt", compresslevel=1) as f:
        for k in range(frames):
            f.write(f"ITEM: TIMESTEP\n{k}\nITEM: NUMBER OF ATOMS\n{n}\nITEM: BOX BOUNDS pp pp pp\n"
                    + f"0 {Lb!r}\n" * 3 + "ITEM: ATOMS id type xu yu zu\n")
            np.savetxt(f, np.c_[np.arange(1, n + 1), types, x[k]], fmt=["%d", "%d", "%.6f", "%.6f", "%.6f"])
    text_size = len(gzip.decompress(path.read_bytes()))
    opened = []
    real_open = _lammps_dump._open_bytes
    monkeypatch.setattr(_lammps_dump, "_open_bytes", lambda p: opened.append(p) or real_open(p))
    tracemalloc.start()
    t = tr.load(path, timestep=DT)
    _, peak_load = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    total = sum(float(c.positions.sum()) for c in t.iter_chunks(16))
    _, peak_read = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(opened) == 2  # one pass at load, one to read the positions: no rewind per frame
    assert peak_load < text_size / 8 and peak_read < text_size / 3, (peak_load, peak_read, text_size)
    np.testing.assert_allclose(total, np.round(x, 6).sum(), rtol=1e-12)
    np.testing.assert_allclose(t[[3, 100, 119]].positions, np.round(x[[3, 100, 119]], 6), atol=1e-12)
    assert len(opened) == 3  # going back to frame 3 reopens the stream once
