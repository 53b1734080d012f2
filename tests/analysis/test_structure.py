"""softlib.analysis.structure against freud, numpy twins, the Fourier transform of g(r) and exact limits."""
import freud
import numpy as np
import pytest

from helpers import hard_sphere_system, minimum_image

from softlib.analysis import structure as st
from softlib.io.trajectory import Trajectory

X = np.array([0.8, 0.2])


@pytest.fixture(scope="module")
def liquid():
    """20 independent RSA configurations, N = 1500, rho = 0.6, d = 1, 80:20 species."""
    rng = np.random.default_rng(11)
    return hard_sphere_system(1500, 0.6, 20, rng)


# --------------------------------------------------------------------------- g(r)
def test_rdf_kernel_matches_numpy_twin(liquid):
    frames, species, box = liquid
    p = frames[0][:600]
    s = species[:600]
    b = st._rdf_counts_numpy(p, s, box, 3.0, 0.01, 300)
    np.testing.assert_array_equal(st._rdf_counts(p, s, box, 3.0, 0.01, 300, 8), b)
    np.testing.assert_array_equal(st._rdf_counts_serial(p, s, box, 3.0, 0.01, 300, 1), b)


@pytest.mark.parametrize("u,v", [(0, 0), (0, 1), (1, 1)])
def test_rdf_against_freud(liquid, u, v):
    frames, species, box = liquid
    frames = frames[:3].astype(np.float32).astype(np.float64)  # freud works in float32
    r, g = st.partial_rdf(frames, dr=0.01, r_max=3.0, species=species, box=box)
    fbox = freud.box.Box.from_box(box)
    mode = "finite_size" if u == v else "exact"  # ours: like pairs over N_u (N_u - 1)
    rdf = freud.density.RDF(bins=len(r), r_max=3.0, normalization_mode=mode)
    for p in frames:
        w = minimum_image(p, box)
        rdf.compute((fbox, w[species == u]), query_points=None if u == v else w[species == v], reset=False)
    np.testing.assert_allclose(rdf.bin_centers, r, atol=1e-6)
    # float32 distances may fall in the neighbouring bin: compare cumulative pair counts
    # (exactly robust to such swaps) and the bins themselves loosely
    vol = 4 / 3 * np.pi * ((r + 0.005) ** 3 - (r - 0.005) ** 3)
    cum_ours, cum_freud = np.cumsum(g[u, v] * vol), np.cumsum(rdf.rdf * vol)
    np.testing.assert_allclose(cum_ours, cum_freud, rtol=1e-3, atol=1e-4)
    assert np.mean(np.abs(g[u, v] - rdf.rdf)) < 2e-3
    np.testing.assert_array_equal(g[u, v], g[v, u])


def test_rdf_ideal_gas_is_one():
    rng = np.random.default_rng(2)
    n, box = 2000, np.array([10.0, 11.0, 12.0])  # orthorhombic
    species = (rng.random(n) < 0.2).astype(np.int32)
    frames = rng.uniform(0, 1, (10, n, 3)) * box
    r, g = st.partial_rdf(frames, dr=0.1, species=species, box=box)
    assert r[-1] < 5.0
    big = r > 2.0  # enough pairs per bin for a tight statistical check
    for u, v in [(0, 0), (0, 1), (1, 1)]:
        np.testing.assert_allclose(g[u, v, big].mean(), 1.0, atol=0.01)


def test_rdf_accepts_trajectory_and_rejects_bad_input(liquid):
    frames, species, box = liquid
    t = Trajectory.from_arrays(frames[:2], species, box)
    r1, g1 = st.partial_rdf(t, r_max=2.0)
    r2, g2 = st.partial_rdf(frames[:2], r_max=2.0, species=species, box=box)
    np.testing.assert_allclose(g1, g2)
    with pytest.raises(ValueError, match="half the smallest box edge"):
        st.partial_rdf(t, r_max=box[0])
    with pytest.raises(ValueError, match="positive"):
        st.partial_rdf(t, dr=0)
    with pytest.raises(ValueError, match="species= "):
        st.partial_rdf(frames[:1])
    with pytest.raises(ValueError, match="both species"):
        st.partial_rdf(frames[:1], species=np.zeros(len(species), int), box=box)


# --------------------------------------------------------------------------- S(q)
def test_rho_k_kernel_matches_numpy_twin(liquid):
    frames, species, box = liquid
    nvec, _, _, nmax = st._shell_vectors(box, 12.0, 50, 0)
    order = np.argsort(species, kind="stable")
    p = minimum_image(frames[0], box)[order] % box
    a = st._rho_k(st._phases(p, box, nmax), nvec, int((species == 0).sum()))
    b = st._rho_k_numpy(frames[0], species, box, nvec)
    np.testing.assert_allclose(a, b, atol=1e-9)


@pytest.mark.parametrize("u,v", [(0, 0), (0, 1), (1, 1)])
def test_structure_factor_against_freud(liquid, u, v):
    """freud samples the non-negative octant of the reciprocal lattice: use the same vectors."""
    frames, species, box = liquid
    p = minimum_image(frames[0], box).astype(np.float32).astype(np.float64)
    dk, nb = 2 * np.pi / box[0], 10
    a = np.arange(nb + 1)
    n = np.stack(np.meshgrid(a, a, a, indexing="ij"), -1).reshape(-1, 3)
    m = np.linalg.norm(n, axis=1)
    keep = (m >= 0.5) & (m < nb + 0.5)
    n, shell = n[keep], np.rint(m[keep]).astype(int)
    order = np.argsort(species, kind="stable")
    rho = st._rho_k(st._phases(p[order] % box, box, np.full(3, nb)), n, int((species == 0).sum()))
    nu = np.bincount(species)
    s = (rho[:, u] * rho[:, v].conj()).real / np.sqrt(nu[u] * nu[v])
    ours = np.array([s[shell == k].mean() for k in range(1, nb + 1)])
    sf = freud.diffraction.StaticStructureFactorDirect(bins=nb, k_max=(nb + 0.5) * dk, k_min=0.5 * dk)
    sf.compute((freud.box.Box.from_box(box), p[species == u]), query_points=p[species == v],
               N_total=len(p))
    # freud's documented Faber-Ziman conversion, then FZ -> Ashcroft-Langreth
    x = nu / nu.sum()
    fz = sf.S_k / (x[u] * x[v]) + 1 - (u == v) / x[v]
    al = (u == v) + np.sqrt(x[u] * x[v]) * (fz - 1)
    np.testing.assert_allclose(ours, al, rtol=2e-5, atol=2e-5)


def test_structure_factor_shell_average_matches_numpy(liquid):
    frames, species, box = liquid
    q, S = st.partial_structure_factor(frames[:2], q_max=10.0, max_vectors=40, species=species, box=box)
    nvec, kmag, shell, _ = st._shell_vectors(box, 10.0, 40, 0)
    nu = np.bincount(species)
    acc = 0
    for p in frames[:2]:
        rho = st._rho_k_numpy(p, species, box, nvec)
        acc = acc + (rho[:, 0] * rho[:, 1].conj()).real / np.sqrt(nu[0] * nu[1]) / 2
    expect = [acc[shell == m].mean() for m in np.unique(shell)]
    np.testing.assert_allclose(S[:, 0, 1], expect, atol=1e-10)
    np.testing.assert_allclose(q, [kmag[shell == m].mean() for m in np.unique(shell)])
    np.testing.assert_array_equal(S[:, 0, 1], S[:, 1, 0])


def test_structure_factor_against_fourier_transform_of_g(liquid):
    """S_uv(q) = delta_uv + sqrt(x_u x_v) rho int 4 pi r^2 (g_uv - 1) sin(qr)/(qr) dr."""
    frames, species, box = liquid
    q, S = st.partial_structure_factor(frames, q_max=12.0, species=species, box=box)
    r, g = st.partial_rdf(frames, dr=0.01, species=species, box=box)
    rho = len(species) / np.prod(box)
    x = np.bincount(species) / len(species)
    sel = (q > 4.0) & (q < 12.0)
    for u, v in [(0, 0), (0, 1), (1, 1)]:
        kern = np.sinc(np.outer(q[sel], r) / np.pi)  # sin(qr)/(qr)
        ft = (u == v) + np.sqrt(x[u] * x[v]) * rho * (kern * 4 * np.pi * r ** 2 * (g[u, v] - 1)).sum(1) * 0.01
        np.testing.assert_allclose(S[sel, u, v], ft, atol=0.05)
    # the structure is real: the main peak of S_AA stands well above the noise
    assert S[sel, 0, 0].max() > 1.3


def test_structure_factor_large_q_and_ideal_gas(liquid):
    frames, species, box = liquid
    q, S = st.partial_structure_factor(frames[:4], q_max=40.0, species=species, box=box)
    far = q > 30
    for u, v in [(0, 0), (0, 1), (1, 1)]:
        np.testing.assert_allclose(S[far, u, v].mean(), float(u == v), atol=0.02)
    rng = np.random.default_rng(5)
    gas = rng.uniform(0, 1, (30, 400, 3)) * np.array([6.0, 7.0, 8.0])
    sp = (rng.random(400) < 0.3).astype(np.int32)
    q, S = st.partial_structure_factor(gas, q_max=8.0, species=sp, box=[6.0, 7.0, 8.0])
    # each shell mean of an ideal gas is 1 (or 0) up to noise ~ 1 / sqrt(vectors x frames)
    for u, v in [(0, 0), (0, 1), (1, 1)]:
        assert abs(S[:, u, v].mean() - float(u == v)) < 0.03
        assert np.all(np.abs(S[:, u, v] - float(u == v)) < 0.6)


def test_structure_factor_vector_sampling_is_fixed():
    box = np.full(3, 9.0)
    a = st._shell_vectors(box, 30.0, 50, seed=0)[0]
    b = st._shell_vectors(box, 30.0, 50, seed=0)[0]
    np.testing.assert_array_equal(a, b)
    _, k, shell, _ = st._shell_vectors(box, 30.0, 50, seed=0)
    assert np.bincount(shell).max() <= 50
    assert k.max() <= 30.0
    # one of each +-k pair only
    full = {tuple(v) for v in a}
    assert not any(tuple(-v) in full for v in a)


def test_structure_factor_bad_input(liquid):
    frames, species, box = liquid
    with pytest.raises(ValueError, match="q_max"):
        st.partial_structure_factor(frames[:1], q_max=0.1, species=species, box=box)
    with pytest.raises(ValueError, match="max_vectors"):
        st.partial_structure_factor(frames[:1], max_vectors=0, species=species, box=box)
    with pytest.raises(ValueError, match="box"):
        st.partial_structure_factor(frames[:1], species=species, box=[1.0, 2.0])


# --------------------------------------------------------------------------- C(q)
def test_direct_correlation_identities():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(50, 2, 2))
    S = np.eye(2) + 0.3 * (a + a.transpose(0, 2, 1))  # symmetric, non-singular
    S = S[np.abs(np.linalg.det(S)) > 0.1]
    C = st.direct_correlation(S)
    np.testing.assert_allclose(np.einsum("qij,qjk->qik", np.eye(2) - C, S), np.broadcast_to(np.eye(2), S.shape),
                               atol=1e-12)
    np.testing.assert_allclose(C, C.transpose(0, 2, 1), atol=1e-12)
    # a diagonal S gives C_uu = 1 - 1 / S_uu, C_AB = 0; S = 1 gives C = 0
    D = np.zeros((3, 2, 2))
    D[:, 0, 0], D[:, 1, 1] = [2.0, 0.5, 1.0], [1.0, 3.0, 1.0]
    C = st.direct_correlation(D)
    np.testing.assert_allclose(C[:, 0, 0], 1 - 1 / D[:, 0, 0])
    np.testing.assert_allclose(C[:, 1, 1], 1 - 1 / D[:, 1, 1])
    assert np.all(C[:, 0, 1] == 0)
    with pytest.raises(ValueError, match="singular"):
        st.direct_correlation(np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="shape"):
        st.direct_correlation(np.ones((3, 3)))


def test_crystalline_fraction_tells_fcc_from_liquid():
    from softlib.analysis.structure import crystalline_fraction

    n = 6  # fcc lattice of 4 n^3 = 864 particles at the A-A nearest-neighbour distance 1.1
    a = 1.1 * np.sqrt(2)
    cells = np.array([(i, j, k) for i in range(n) for j in range(n) for k in range(n)], float)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    pos = (cells[:, None, :] + basis[None]).reshape(-1, 3) * a
    box = np.full(3, n * a)
    sp = np.zeros(len(pos), int)
    fcc = crystalline_fraction(pos, sp, box)
    assert fcc["fraction"] == 1.0 and fcc["mean"] > 0.45
    rng = np.random.default_rng(1)
    jiggled = crystalline_fraction(pos + rng.normal(0, 0.05, pos.shape), sp, box)
    assert jiggled["fraction"] > 0.95  # thermal noise does not hide the crystal
    gas = crystalline_fraction(rng.uniform(0, box[0], pos.shape), sp, box)
    assert gas["fraction"] < 0.05 and gas["mean"] < 0.3
    with pytest.raises(ValueError, match="too few"):
        crystalline_fraction(pos[:5], sp[:5], box)
