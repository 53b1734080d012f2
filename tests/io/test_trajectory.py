"""softlib.io.trajectory: every format we read, unwrapping, slicing, streaming, and every bad input."""
import gzip
import warnings

import gsd.hoomd
import numpy as np
import pytest

from softlib.io import gsd as gsdio
from softlib.io import trajectory as tr

import helpers

N, L, F = 40, 4.0, 150
BOX = np.array([L, L, L])


@pytest.fixture(scope="module")
def walk():
    """A random walk that crosses the periodic box many times (steps well below L/4)."""
    pos = helpers.box_crossing_walk(N, F, lambda rng: rng.uniform(-L / 2, L / 2, (N, 3)), 0.12, 0.06, 7)
    species = np.zeros(N, dtype=np.int32)
    species[32:] = 1
    assert np.median(np.abs(pos[-1] - pos[0]).max(axis=1)) > 2 * L  # most cross the box several times
    return pos, species


def _write_gsd(path, pos, species, *, images=True, times=None, types=("A", "B"), box=None,
               n_change_at=None, tilt=False):
    with gsd.hoomd.open(path, mode="w") as f:
        for i, p in enumerate(pos):
            fr = gsd.hoomd.Frame()
            fr.configuration.step = 10 * i
            b = BOX if box is None else box(i)
            fr.configuration.box = [*b, 0.1 if tilt else 0.0, 0.0, 0.0]
            keep = slice(None) if n_change_at is None or i < n_change_at else slice(0, -1)
            w, img = gsdio.wrap(p[keep], b)
            fr.particles.N = len(w)
            fr.particles.types = list(types)
            fr.particles.typeid = species[keep].astype(np.uint32)
            fr.particles.position = w.astype(np.float32)
            if images:
                fr.particles.image = img
            fr.log["softlib/time"] = np.array([0.1 * i if times is None else times[i]])
            f.append(fr)


def _write_dump(path, pos, species, cols, opener=open, n_change_at=None, triclinic=False):
    rng = np.random.default_rng(3)
    with opener(path, "wt") as f:
        for i, p in enumerate(pos):
            n = len(p) - (1 if n_change_at is not None and i >= n_change_at else 0)
            f.write(f"ITEM: TIMESTEP\n{40 * i}\nITEM: NUMBER OF ATOMS\n{n}\n")
            if triclinic:
                f.write("ITEM: BOX BOUNDS xy xz yz pp pp pp\n")
                f.write("".join(f"{-L / 2} {L / 2} 0.5\n" for _ in range(3)))
            else:
                f.write("ITEM: BOX BOUNDS pp pp pp\n" + "".join(f"{-L / 2} {L / 2}\n" for _ in range(3)))
            f.write(f"ITEM: ATOMS id type {cols}\n")
            w, img = gsdio.wrap(p, BOX)
            for j in rng.permutation(n):  # LAMMPS writes atoms in any order
                vals = {"xu yu zu": list(p[j]), "x y z ix iy iz": [*w[j], *img[j]], "x y z": list(w[j])}[cols]
                f.write(f"{j + 1} {species[j] + 1} " + " ".join(f"{v:.9g}" for v in vals) + "\n")


def _same_up_to_shift(a, b, atol):
    """Unwrapped trajectories agree up to one constant lattice/origin shift per particle."""
    d = a - b
    np.testing.assert_allclose(d - d[:1], 0.0, atol=atol)


# --------------------------------------------------------------------------- GSD
def test_gsd_with_images_recovers_walk(walk, tmp_path):
    pos, species = walk
    path = tmp_path / "a.gsd"
    with gsdio.GSDWriter(path, species, BOX) as w:
        for i, p in enumerate(pos):
            w.append(10 * i, 0.1 * i, p)
    t = tr.load(path)
    assert (t.n_frames, t.n_particles) == (F, N)
    np.testing.assert_allclose(t.positions, pos, atol=1e-5)  # float32 storage
    np.testing.assert_allclose(t.times, 0.1 * np.arange(F))
    np.testing.assert_array_equal(t.species, species)
    np.testing.assert_allclose(t.box, BOX)
    assert t.positions.dtype == np.float64


def test_gsd_without_images_unwraps_by_continuity(walk, tmp_path):
    pos, species = walk
    path = tmp_path / "w.gsd"
    _write_gsd(path, pos, species, images=False)
    t = tr.load(path)
    _same_up_to_shift(t.positions, pos, 1e-5)
    # random access and slices continue from image checkpoints consistently
    _same_up_to_shift(t[100:140].positions, pos[100:140], 1e-5)
    np.testing.assert_allclose(t[[3, 97, 149]].positions, t.positions[[3, 97, 149]], atol=1e-12)


def test_gsd_times_from_steps_need_timestep(walk, tmp_path):
    pos, species = walk
    path = tmp_path / "h.gsd"
    with gsd.hoomd.open(path, mode="w") as f:  # a HOOMD-style file: steps, no softlib/time
        for i, p in enumerate(pos[:5]):
            fr = gsd.hoomd.Frame()
            fr.configuration.step = 100 * i
            fr.configuration.box = [*BOX, 0, 0, 0]
            fr.particles.N = N
            fr.particles.types = ["A", "B"]
            fr.particles.typeid = species.astype(np.uint32)
            fr.particles.position = gsdio.wrap(p, BOX)[0].astype(np.float32)
            f.append(fr)
    with pytest.raises(ValueError, match="timestep="):
        tr.load(path)
    np.testing.assert_allclose(tr.load(path, timestep=0.005).times, 0.5 * np.arange(5))


# --------------------------------------------------------------------------- LAMMPS dumps
@pytest.mark.parametrize("cols", ["xu yu zu", "x y z ix iy iz", "x y z"])
def test_lammps_dump_conventions(walk, tmp_path, cols):
    pos, species = walk
    path = tmp_path / "d.lammpstrj"
    _write_dump(path, pos[:70], species, cols)
    t = tr.load(path, timestep=0.0025)
    _same_up_to_shift(t.positions, pos[:70], 1e-5)  # MDAnalysis moves the origin to the box corner
    np.testing.assert_allclose(t.times, 40 * 0.0025 * np.arange(70))
    np.testing.assert_array_equal(t.species, species)  # types 1/2 -> 0/1, sorted by id


def test_gzipped_dump_and_species_override(walk, tmp_path):
    pos, species = walk
    path = tmp_path / "d.dump.gz"
    _write_dump(path, pos[:10], species, "xu yu zu", opener=gzip.open)
    t = tr.load(path, timestep=0.0025, species={"1": 1, "2": 0})
    np.testing.assert_array_equal(t.species, 1 - species)
    _same_up_to_shift(t.positions, pos[:10], 1e-5)


def test_dcd_and_xtc_with_topology(walk, tmp_path):
    mda = pytest.importorskip("MDAnalysis")
    pos, species = walk
    top = tmp_path / "top.gsd"
    _write_gsd(top, pos[:1], species)
    u = mda.Universe(str(top))
    for ext, atol in (("dcd", 1e-5), ("xtc", 2e-3)):  # XTC keeps 3 decimals
        path = tmp_path / f"t.{ext}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with mda.Writer(str(path), N, convert_units=False) as w:
                for i in range(60):
                    u.atoms.positions = gsdio.wrap(pos[i], BOX)[0]
                    u.dimensions = [L, L, L, 90, 90, 90]
                    u.trajectory.ts.time = 0.1 * i
                    u.trajectory.ts.data["step"] = 40 * i
                    w.write(u.atoms)
        t = tr.load(path, topology=top)
        assert t.n_frames == 60
        _same_up_to_shift(t.positions, pos[:60], atol)
        np.testing.assert_array_equal(t.species, species)
        assert np.all(np.diff(t.times) > 0)
    # XTC stores step numbers: with a timestep they give the times
    np.testing.assert_allclose(tr.load(path, topology=top, timestep=0.0025).times, 0.1 * np.arange(60))


def test_h5md(walk, tmp_path):
    pytest.importorskip("h5py")
    mda = pytest.importorskip("MDAnalysis")
    pos, species = walk
    top = tmp_path / "top.gsd"
    _write_gsd(top, pos[:1], species)
    u = mda.Universe(str(top))
    path = tmp_path / "t.h5md"
    with mda.Writer(str(path), N, convert_units=False) as w:
        for i in range(20):
            u.atoms.positions = gsdio.wrap(pos[i], BOX)[0]
            u.dimensions = [L, L, L, 90, 90, 90]
            u.trajectory.ts.time = 0.1 * i
            u.trajectory.ts.data["step"] = 40 * i
            w.write(u.atoms)
    t = tr.load(path, topology=top)
    _same_up_to_shift(t.positions, pos[:20], 1e-5)
    np.testing.assert_allclose(t.times, 0.1 * np.arange(20), rtol=1e-6)
    np.testing.assert_allclose(tr.load(path, topology=top, timestep=0.0025).times, 0.1 * np.arange(20))


# --------------------------------------------------------------------------- the Trajectory object
def test_slicing_and_chunks(walk):
    pos, species = walk
    t = tr.Trajectory.from_arrays(pos, species, L, times=0.5 * np.arange(F))
    assert len(t[::7]) == len(range(0, F, 7))
    np.testing.assert_array_equal(t[10:20:3].positions, pos[10:20:3])
    np.testing.assert_array_equal(t[-1].positions, pos[-1:])
    np.testing.assert_array_equal(t[10:20][2:4].times, 0.5 * np.arange(12, 14))
    chunks = list(t.iter_chunks(40))
    assert [c.n_frames for c in chunks] == [40, 40, 40, 30]
    np.testing.assert_array_equal(np.concatenate([c.positions for c in chunks]), pos)
    with pytest.raises(ValueError, match="increasing"):
        t[[5, 2]]
    with pytest.raises(ValueError, match="chunk size"):
        next(t.iter_chunks(0))


# --------------------------------------------------------------------------- bad input
def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trajectory"):
        tr.load(tmp_path / "nope.gsd")
    p = tmp_path / "x.weird"
    p.write_text("hello")
    with pytest.raises(ValueError, match="unknown trajectory format"):
        tr.load(p)


def test_changing_n(walk, tmp_path):
    pos, species = walk
    _write_gsd(tmp_path / "n.gsd", pos[:6], species, n_change_at=3)
    with pytest.raises(ValueError, match="number of particles changes"):
        tr.load(tmp_path / "n.gsd")
    _write_dump(tmp_path / "n.lammpstrj", pos[:6], species, "xu yu zu", n_change_at=3)
    with pytest.raises(ValueError, match="truncated or N changes"):
        tr.load(tmp_path / "n.lammpstrj", timestep=0.0025)


def test_non_orthorhombic_and_changing_box(walk, tmp_path):
    pos, species = walk
    _write_gsd(tmp_path / "t.gsd", pos[:3], species, tilt=True)
    with pytest.raises(ValueError, match="triclinic"):
        tr.load(tmp_path / "t.gsd")
    _write_gsd(tmp_path / "b.gsd", pos[:3], species, box=lambda i: BOX * (1 + 0.01 * i))
    with pytest.raises(ValueError, match="box changes"):
        tr.load(tmp_path / "b.gsd")
    _write_dump(tmp_path / "t.lammpstrj", pos[:3], species, "xu yu zu", triclinic=True)
    with pytest.raises(ValueError, match="non-orthorhombic"):
        tr.load(tmp_path / "t.lammpstrj", timestep=0.0025)


def test_species_not_two(walk, tmp_path):
    pos, species = walk
    three = species.copy()
    three[:5] = 2
    _write_gsd(tmp_path / "3.gsd", pos[:2], three, types=("A", "B", "C"))
    with pytest.raises(ValueError, match="exactly two"):
        tr.load(tmp_path / "3.gsd")
    # the user may map three types onto two species explicitly
    t = tr.load(tmp_path / "3.gsd", species={"A": 0, "B": 1, "C": 1})
    np.testing.assert_array_equal(t.species, np.where(three == 0, 0, 1))
    _write_gsd(tmp_path / "1.gsd", pos[:2], np.zeros(N, np.int32), types=("A",))
    with pytest.raises(ValueError, match="exactly two"):
        tr.load(tmp_path / "1.gsd")
    _write_gsd(tmp_path / "xy.gsd", pos[:2], species, types=("X", "Y"))  # any names: the majority is A
    t = tr.load(tmp_path / "xy.gsd")
    np.testing.assert_array_equal(t.species, species)
    assert t.type_map == {"X": 0, "Y": 1} and not t.species_swapped
    with pytest.raises(ValueError, match="lacks type"):
        tr.load(tmp_path / "xy.gsd", species={"X": 0})


def test_frames_out_of_time_order(walk, tmp_path):
    pos, species = walk
    times = np.array([0.0, 0.1, 0.2, 0.15, 0.3])
    _write_gsd(tmp_path / "o.gsd", pos[:5], species, times=times)
    with pytest.raises(ValueError, match="out of time order"):
        tr.load(tmp_path / "o.gsd")


def test_truncated_files(walk, tmp_path):
    pos, species = walk
    good = tmp_path / "a.gsd"
    _write_gsd(good, pos[:20], species)
    data = good.read_bytes()
    bad = tmp_path / "cut.gsd"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        tr.load(bad)
    _write_dump(tmp_path / "d.lammpstrj", pos[:10], species, "xu yu zu")
    text = (tmp_path / "d.lammpstrj").read_text()
    (tmp_path / "cut.lammpstrj").write_text(text[: len(text) // 2 + 11])
    with pytest.raises(ValueError, match="truncated"):
        tr.load(tmp_path / "cut.lammpstrj", timestep=0.0025)


def test_unsafe_continuity_and_missing_timestep(walk, tmp_path):
    pos, species = walk
    jumpy = pos[:4].copy()
    jumpy[2, 0, 0] += 0.4 * L  # a jump that minimum image would fold back
    _write_gsd(tmp_path / "j.gsd", jumpy, species, images=False)
    with pytest.raises(ValueError, match="unwrapping by continuity is unsafe"):
        tr.load(tmp_path / "j.gsd")
    _write_dump(tmp_path / "d.lammpstrj", pos[:3], species, "xu yu zu")
    with pytest.raises(ValueError, match="timestep="):
        tr.load(tmp_path / "d.lammpstrj")
    with pytest.raises(ValueError, match="timestep must be positive"):
        tr.load(tmp_path / "d.lammpstrj", timestep=-1)


def test_bad_arrays():
    with pytest.raises(ValueError, match="species"):
        tr.Trajectory.from_arrays(np.zeros((2, 3, 3)), [0, 1, 2], L)
    with pytest.raises(ValueError, match="NaN"):
        tr.Trajectory.from_arrays(np.full((2, 3, 3), np.nan), [0, 1, 1], L)
    with pytest.raises(ValueError, match="out of time order"):
        tr.Trajectory.from_arrays(np.zeros((2, 3, 3)), [0, 1, 1], L, times=[1.0, 1.0])
