"""Cell and Verlet lists against an O(N^2) brute-force search."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softlib.engine.neighbors import (
    VerletList,
    _neighbor_pairs_numpy,
    balance,
    cell_grid,
    cell_list,
    neighbor_pairs,
)


def brute_pairs(pos, box, cutoff):
    """Independent reference: all image vectors explicitly, no rint."""
    n = len(pos)
    out = {}
    shifts = np.array([[a, b, c] for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)])
    wrapped = np.mod(pos, box)
    for i in range(n):
        d = wrapped[i] - wrapped[i + 1:]                   # (n-i-1, 3), |d| < box
        dd = d[:, None, :] + shifts[None] * box            # all 27 images
        r = np.sqrt((dd**2).sum(-1)).min(axis=1)
        for k in np.nonzero(r < cutoff)[0]:
            out[(i, i + 1 + k)] = r[k]
    return out


def random_points(draw_seed, n, box, near_boundary):
    rng = np.random.default_rng(draw_seed)
    pos = rng.uniform(0, 1, (n, 3)) * box
    if near_boundary:
        # put a third of the points within 1e-9 of a face, on either side, and
        # some exactly on 0 or L, plus whole-box shifts (unwrapped input)
        m = n // 3
        axis = rng.integers(0, 3, m)
        side = rng.integers(0, 2, m)
        eps = rng.choice([0.0, 1e-12, -1e-12, 1e-9, -1e-9], m)
        pos[np.arange(m), axis] = side * box[axis] + eps
        pos += rng.integers(-2, 3, (n, 3)) * box
    return pos


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 120),
    lengths=st.tuples(*[st.floats(2.05, 9.0)] * 3),
    cut_frac=st.floats(0.05, 0.99),
    near=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_neighbor_pairs_match_brute_force(n, lengths, cut_frac, near, seed):
    box = np.array(lengths)
    cutoff = cut_frac * 0.5 * box.min()  # box > 2 cutoff
    pos = random_points(seed, n, box, near)
    i, j, r = neighbor_pairs(pos, box, cutoff)
    ref = brute_pairs(pos, box, cutoff)
    assert np.all(i < j)
    got = dict(zip(zip(i.tolist(), j.tolist()), r.tolist()))
    assert len(got) == len(i)  # no duplicates
    # pairs within 1e-9 of the cutoff may go either way by rounding
    sure = {k for k, v in ref.items() if v < cutoff - 1e-9}
    assert sure <= set(got)
    extra = set(got) - set(ref)
    assert all(got[k] > cutoff - 1e-9 for k in extra)
    for k in set(got) & set(ref):
        assert got[k] == pytest.approx(ref[k], rel=1e-12, abs=1e-12)
    assert r.dtype == np.float64 and i.dtype.kind == "i"
    assert np.all(np.diff(i) >= 0)


def test_numpy_twin_agrees():
    rng = np.random.default_rng(1)
    box = np.array([6.0, 7.5, 5.2])
    pos = rng.uniform(0, 1, (300, 3)) * box
    i, j, r = neighbor_pairs(pos, box, 2.5)
    i2, j2, r2 = _neighbor_pairs_numpy(pos, box, 2.5)
    o = np.lexsort((j2, i2))
    np.testing.assert_array_equal(i, i2[o])
    np.testing.assert_array_equal(j, j2[o])
    np.testing.assert_allclose(r, r2[o], rtol=1e-13)


def list_pairs(vl):
    """Pairs of the Verlet list in original particle indices (i < j)."""
    perm = vl.perm
    np.testing.assert_array_equal(np.sort(perm), np.arange(len(perm)))
    np.testing.assert_array_equal(vl.species_sorted, vl.species[perm])
    pairs = set()
    for i in range(len(vl.offsets) - 1):  # rows are in cell-sorted order
        row = vl.nbrs[vl.offsets[i]:vl.offsets[i + 1]].astype(np.int64)
        assert np.all(row > i)
        s = vl.species_sorted[row]
        k = vl.split[i] - vl.offsets[i]
        assert np.all(s[:k] == 0) and np.all(s[k:] == 1)  # species-split rows
        a, b = perm[i], perm[row]
        pairs.update(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist()))
    assert len(pairs) == vl.n_pairs  # no pair twice
    return pairs


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 150),
    lengths=st.tuples(*[st.floats(5.05, 9.0)] * 3),
    skin=st.floats(0.05, 0.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_verlet_list_valid_after_small_moves(n, lengths, skin, seed):
    rng = np.random.default_rng(seed)
    box = np.array(lengths)
    species = rng.integers(0, 2, n)
    cut = np.array([[2.5, 2.0], [2.0, 2.2]])
    pos = random_points(seed, n, box, near_boundary=True)
    vl = VerletList(species, box, cut, skin)
    assert vl.needs_rebuild(pos)
    vl.build(pos)
    pairs = list_pairs(vl)
    # the list holds exactly the pairs within cutoff + skin at build time
    ref = brute_pairs(pos, box, cut.max() + skin)
    want = {k for k, r in ref.items() if r < cut[species[k[0]], species[k[1]]] + skin - 1e-9}
    assert want <= pairs
    # move every particle by less than skin / 2 (some across the box faces)
    step = rng.normal(size=(n, 3))
    step *= (0.4999 * skin * rng.uniform(0, 1, n) / np.linalg.norm(step, axis=1))[:, None]
    moved = pos + step
    moved[: n // 4] += box * rng.integers(-1, 2, (n // 4, 3))
    assert not vl.needs_rebuild(moved)
    now = brute_pairs(moved, box, cut.max())
    inside = {k for k, r in now.items() if r < cut[species[k[0]], species[k[1]]]}
    assert inside <= pairs
    # one particle moved by more than skin / 2 triggers a rebuild
    moved[0] = pos[0] + [0.51 * skin, 0, 0]
    assert vl.needs_rebuild(moved)
    assert vl.n_builds == 1


def test_rebuild_on_nan_and_balance():
    box = np.full(3, 6.0)
    pos = np.random.default_rng(2).uniform(0, 6, (50, 3))
    vl = VerletList(np.zeros(50, int), box, 2.5, 0.3)
    vl.build(pos)
    bad = pos.copy()
    bad[3, 1] = np.nan
    assert vl.needs_rebuild(bad)
    with pytest.raises(ValueError, match="NaN"):
        vl.build(bad)
    b = balance(vl.offsets, 3)
    assert b[0] == 0 and b[-1] == 50 and np.all(np.diff(b) >= 0)
    per = [vl.offsets[b[c + 1]] - vl.offsets[b[c]] for c in range(3)]
    assert max(per) - min(per) <= 2 * np.diff(vl.offsets).max()


def test_cell_grid_and_list():
    np.testing.assert_array_equal(cell_grid([10.0, 5.0, 2.6], 2.6), [3, 1, 1])
    rng = np.random.default_rng(4)
    box = np.array([7.0, 5.0, 9.5])
    pos = rng.uniform(-10, 10, (200, 3))  # unwrapped
    ncell, start, atoms = cell_list(pos, box, 2.4)
    np.testing.assert_array_equal(ncell, [2, 2, 3])
    np.testing.assert_array_equal(np.sort(atoms), np.arange(200))
    idx = np.floor(np.mod(pos, box) / (box / ncell)).astype(int)
    want = (idx[:, 0] * ncell[1] + idx[:, 1]) * ncell[2] + idx[:, 2]
    for c in range(ncell.prod()):
        np.testing.assert_array_equal(atoms[start[c]:start[c + 1]], np.nonzero(want == c)[0])


@pytest.mark.parametrize(
    "box, cutoff, match",
    [(4.0, 2.5, "twice the cutoff"), ([6.0, 6.0], 1.0, "three"), (6.0, -1.0, "positive"),
     (6.0, np.nan, "positive")],
)
def test_bad_input(box, cutoff, match):
    with pytest.raises(ValueError, match=match):
        neighbor_pairs(np.zeros((4, 3)), box, cutoff)


def test_bad_positions_and_skin():
    with pytest.raises(ValueError, match="shape"):
        neighbor_pairs(np.zeros((4, 2)), 6.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        neighbor_pairs(np.full((4, 3), np.nan), 6.0, 1.0)
    with pytest.raises(ValueError, match="skin"):
        VerletList([0, 1], 6.0, 2.5, -0.1)
    with pytest.raises(ValueError, match="unknown species"):
        VerletList([0, 2], 6.0, 2.5, 0.1)


@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_dense_list_parallel_build_and_regrow(nthreads):
    # ~170 partners per row: more than the first buffer guess, so the build regrows
    rng = np.random.default_rng(7)
    box = np.array([5.1, 5.3, 5.2])
    n = 400
    species = rng.integers(0, 2, n)
    pos = rng.uniform(0, 1, (n, 3)) * box
    vl = VerletList(species, box, 2.5, 0.5, nthreads=nthreads)
    vl.build(pos)
    pairs = list_pairs(vl)
    ref = brute_pairs(pos, box, 3.0)
    assert {k for k, r in ref.items() if r < 3.0 - 1e-9} <= pairs <= set(ref)
