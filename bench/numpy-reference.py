#!/usr/bin/env python3
"""The NumPy/OpenBLAS float64 reference of the spectral method, as a benchmark yardstick.

    python3 bench/numpy-reference.py --x X.f64 --y Y.f64 --d D --l L --k K [--out M.json]

Reads raw little-endian float64 row-major files (n×d and n×l) with np.fromfile and learns
y = A·relu(W·x) + noise by the variant docs/reference.md measures as its reference,
"reduced + whitened + even part + Gauss–Newton polish" (step numbers are algorithm.md's):

  pass 1   E[xxᵀ], E[yxᵀ], E[yyᵀ], E[y]                                           (step 1)
  reduce   x whitened on the numerical range of E[xxᵀ]; the linear part
           P = 2·E[yxᵀ]·E[xxᵀ]⁻¹ in those coordinates; its SVD; h = V_kᵀx̃ ∈ R^k (white),
           z = Cov(U_kᵀy)^(-1/2)·U_kᵀy ∈ R^k; Ph = 2·E[z hᵀ]       ("Reduce", "Whiten")
  pass 2   T = Σ φ(h)·φ(q)ᵀ, φ the upper-triangle Khatri–Rao features with √2 on the
           off-diagonal, q_ij = e_i e_j − ¼(Ph h)_i(Ph h)_j, e = z − ½·Ph h (even part);
           one GEMM per chunk of rows, so memory does not grow with n           (steps 3, 4)
  extract  the direction svec(I) (output noise) projected out of T's rows; null space = the
           k eigenvectors of TᵀT with the smallest eigenvalues                        (step 5)
           Jennrich over random pairs, the pair whose eigenvectors best jointly diagonalize
           the whole basis kept                                                         (step 6)
           Gauss–Newton polish of each of that pair's k directions u on ‖T·svec(uuᵀ)‖², ‖u‖ = 1
  layers   ŵ_i = sign(E[u_iᵀz])·Phᵀu_i mapped back to x, rows normalized               (step 7)
  pass 3   A by least squares of y on relu(Ŵx)                                            (step 8)

No refinement to the least-squares optimum: this is the spectral estimate alone.

Timing. bench/cli.mjs times the whole process, spawn to exit: Python start-up, the NumPy
import, reading both files, the computation and writing --out. The script prints its own
phases (milliseconds) to stderr, the last line as JSON for cli.mjs:
  import · read · pass1 · reduce · pass2 · extract · pass3 (layers included) · write.
NumPy/OpenBLAS run with their default threads. Pass 2 holds its features as rows (samples
along contiguous rows) in chunks of 8192 rows (--chunk): on this machine (2 cores) its time at
n = 1e6 was 1.0 s with 4096 rows, 0.8 s with 8192, 1.2–1.3 s with 16 384, 1.9 s with 65 536,
and 2.0 s with samples as rows. Phases at n = 1e6, files in the page cache, 8192 rows: import
36 ms · read 60 ms (0.4–1.1 s on some runs: np.fromfile alone, of files in the page cache,
stalls the same way on this machine) · pass1 100–180 ms · pass2 0.8–0.95 s · extract 20 ms ·
pass3 60–90 ms; whole process 1.4–2.3 s in bench/cli.mjs.

Accuracy (W error after matching units and positive scales, the package's compare(); planted
gaussian (32,16,32), σ = 0.05, seed 1, the files of `node bench/cli.mjs`): n = 1e6: 0.00485,
n = 2e5: 0.00823 (0.0227 at n = 1e6 without the polish). pureneuron's spectral estimate alone
(`learn --refine 0`) gives 0.00452 and 0.00784 with its default robust sample weights, and
with `--weighting none` — this method — 0.00485 and 0.00823, equal to these to 8 digits.
"""
import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

T_IMPORTED = time.perf_counter()

SQRT2 = np.sqrt(2.0)
RANK_TOL = 1e-10  # relative eigenvalue of E[xxᵀ] below which a direction counts as absent
POLISH_STEPS = 12


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--x', required=True)
    p.add_argument('--y', required=True)
    p.add_argument('--d', type=int, required=True)
    p.add_argument('--l', type=int, required=True)
    p.add_argument('--k', type=int, required=True)
    p.add_argument('--out')
    p.add_argument('--chunk', type=int, default=8192, help='rows per pass-2 / pass-3 chunk')
    p.add_argument('--pairs', type=int, default=8, help='random Jennrich pairs')
    p.add_argument('--seed', type=int, default=1)
    return p.parse_args()


def read_matrix(path, cols):
    a = np.fromfile(path, dtype='<f8')
    if a.size % cols:
        sys.exit(f'{path}: {a.size} values is not a multiple of {cols}')
    return a.reshape(-1, cols)


# --- symmetric-matrix coordinates (upper triangle row by row, off-diagonal ×√2) -------------

def tri(m):
    i, j = np.triu_indices(m)
    return i, j, np.where(i == j, 1.0, SQRT2)


def features(M, t):
    """φ of every row of M (rows × m) → rows × m(m+1)/2 (the polish's directions)."""
    i, j, w = t
    return M[:, i] * M[:, j] * w


def features_t(Mt, t):
    """φ of every column of Mt (m × samples) → m(m+1)/2 × samples: pass 2's layout, where
    samples run along contiguous rows (the same values as features(Mt.T).T, 5–7× faster)."""
    i, j, w = t
    return Mt[i] * Mt[j] * w[:, None]


def smat(v, m, t):
    i, j, w = t
    S = np.zeros((m, m))
    S[i, j] = v / w
    S[j, i] = v / w
    return S


# --- the steps --------------------------------------------------------------------------------

def reduce_and_whiten(Cxx, Cyx, Cyy, my, k):
    """Step 1 and the reduction: the maps Rx (k×d), Ry (k×l), Ph = 2·E[z hᵀ] (k×k), E[z]."""
    lam, Q = np.linalg.eigh(Cxx)
    keep = lam > RANK_TOL * lam[-1]
    Mx = (Q[:, keep] / np.sqrt(lam[keep])).T            # x̃ = Mx·x, E[x̃x̃ᵀ] = I
    if Mx.shape[0] < k:
        sys.exit(f'E[xxᵀ] has rank {Mx.shape[0]} < k = {k}')
    P = 2.0 * Cyx @ Mx.T                                 # the linear part A·W in x̃ coordinates
    U, s, Vt = np.linalg.svd(P, full_matrices=False)
    Uk, Vk = U[:, :k], Vt[:k].T
    Rx = Vk.T @ Mx                                       # h = Rx·x
    Cz = Uk.T @ (Cyy - np.outer(my, my)) @ Uk            # Cov(U_kᵀy)
    ev, E = np.linalg.eigh(Cz)
    Ry = (E / np.sqrt(ev)) @ E.T @ Uk.T                  # z = Ry·y, Cov(z) = I
    Ph = 2.0 * Ry @ Cyx @ Rx.T
    return Rx, Ry, Ph, Ry @ my, s


def detector(X, Y, Rx, Ry, Ph, chunk):
    """Pass 2: T = Σ φ(h)·φ(q)ᵀ (mh × mz), one GEMM per chunk."""
    k = Rx.shape[0]
    t = tri(k)
    m = len(t[0])
    T = np.zeros((m, m))
    for a in range(0, X.shape[0], chunk):
        H = Rx @ X[a:a + chunk].T                        # k × rows: h of each row, as columns
        Z = Ry @ Y[a:a + chunk].T
        Pp = Ph @ H                                      # the linear (odd) part of z
        E = Z - 0.5 * Pp                                 # the even part
        Fq = features_t(E, t)
        Fq -= 0.25 * features_t(Pp, t)
        T += features_t(H, t) @ Fq.T
    return T


def null_space(T, n, k):
    """Step 5: noise direction svec(I) projected out of the rows; k smallest eigenvectors of TᵀT."""
    i, j, _ = tri(k)
    Th = T / n
    nu = (i == j) / np.sqrt(k)
    Th -= np.outer(nu, nu @ Th)
    G = Th.T @ Th
    ev, V = np.linalg.eigh(G)
    return V[:, :k], G, np.sqrt(np.maximum(ev, 0))


def joint_diag_residual(Uc, N):
    """Off-diagonal energy of V N_j Vᵀ over the total (V = Uc⁻¹, rows normalized)."""
    try:
        V = np.linalg.inv(Uc)
    except np.linalg.LinAlgError:
        return np.inf
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    D = V @ N @ V.T                                      # k × k × k, one per basis matrix
    tot = np.sum(D ** 2)
    off = tot - np.sum(np.diagonal(D, axis1=1, axis2=2) ** 2)
    return off / tot


def jennrich(basis, k, pairs, rng):
    """Step 6: eigenvectors of M₁M₂⁻¹ for random pairs; the best joint diagonalizer is kept."""
    t = tri(k)
    N = np.stack([smat(basis[:, j], k, t) for j in range(k)])
    best, best_res = None, np.inf
    for _ in range(pairs):
        a, b = rng.standard_normal(k), rng.standard_normal(k)
        M1 = np.tensordot(a, N, 1)
        M2 = np.tensordot(b, N, 1)
        try:
            w, V = np.linalg.eig(np.linalg.solve(M2.T, M1.T).T)   # M₁·M₂⁻¹
        except np.linalg.LinAlgError:
            continue
        if np.any(np.abs(w.imag) > 1e-10 * np.max(np.abs(w.real))):
            continue                                     # complex eigenvalues: a bad pair
        Uc = V.real / np.linalg.norm(V.real, axis=0)
        res = joint_diag_residual(Uc, N)
        if res < best_res:
            best, best_res = Uc, res
    if best is None:
        sys.exit('rank-one extraction failed: every Jennrich pair gave complex eigenvalues')
    return best, best_res


def objective(Us, G, t):
    """f(u) = φᵀGφ, φ = svec(uuᵀ), for every row u of Us."""
    F = features(Us, t)
    return np.einsum('ci,ij,cj->c', F, G, F)


def polish(U, G, k):
    """Gauss–Newton on f(u) = ‖T svec(uuᵀ)‖² over ‖u‖ = 1, all k directions (rows of U) at once."""
    t = tri(k)
    i, j, w = t
    Ei = np.eye(k)[i] * w[:, None]                       # mz × k: row (i,j) → w·e_i
    Ej = np.eye(k)[j] * w[:, None]
    U = U.copy()
    f = objective(U, G, t)
    active = np.ones(len(U), bool)
    steps = 0.5 ** np.arange(6)
    for _ in range(POLISH_STEPS):
        if not active.any():
            break
        u = U[active]
        # Jacobian of φ: ∂φ_(i,j)/∂u = w·(u_j e_i + u_i e_j) (2u_i e_i on the diagonal).
        J = Ei[None] * u[:, j][:, :, None] + Ej[None] * u[:, i][:, :, None]   # c × mz × k
        Gphi = features(u, t) @ G
        GJ = np.einsum('ab,cbk->cak', G, J)
        H = np.einsum('cak,cam->ckm', J, GJ)
        g = np.einsum('cak,ca->ck', J, Gphi)
        Hu = np.einsum('ckm,cm->ck', H, u)
        uHu = np.einsum('ck,ck->c', u, Hu)
        ug = np.einsum('ck,ck->c', u, g)
        lam = np.trace(H, axis1=1, axis2=2) / k
        uu = u[:, :, None] * u[:, None, :]
        S = H - u[:, :, None] * Hu[:, None, :] - Hu[:, :, None] * u[:, None, :] + uu * (uHu + lam)[:, None, None]
        rhs = -(g - u * ug[:, None])
        delta = np.linalg.solve(S, rhs[:, :, None])[:, :, 0]
        # Backtracking: the first of the step lengths 1, ½, … ⅟32 that lowers f.
        V = u[:, None, :] + steps[None, :, None] * delta[:, None, :]
        V /= np.linalg.norm(V, axis=2, keepdims=True)
        fv = objective(V.reshape(-1, k), G, t).reshape(len(u), len(steps))
        f0 = f[active]
        lower = fv < f0[:, None]
        ok = lower.any(axis=1)
        first = np.argmax(lower, axis=1)
        fnew = fv[np.arange(len(u)), first]
        idx = np.flatnonzero(active)
        U[idx[ok]] = V[ok, first[ok]]
        f[idx[ok]] = fnew[ok]
        converged = (f0 - fnew) / np.maximum(f0, 1e-300) < 1e-8
        active[idx[~ok | converged]] = False
    return U, f


def readout(X, Y, W, chunk):
    """Pass 3: A = (Σ y rᵀ)(Σ r rᵀ)⁻¹, r = relu(Wx)."""
    k = W.shape[0]
    RR = np.zeros((k, k))
    RY = np.zeros((k, Y.shape[1]))
    for a in range(0, X.shape[0], chunk):
        R = np.maximum(X[a:a + chunk] @ W.T, 0.0)
        RR += R.T @ R
        RY += R.T @ Y[a:a + chunk]
    return np.linalg.solve(RR, RY).T


def main():
    o = parse_args()
    ms = {'import': (T_IMPORTED - T_START) * 1e3}
    tick = [time.perf_counter()]

    def phase(name):
        t = time.perf_counter()
        ms[name] = (t - tick[0]) * 1e3
        tick[0] = t

    X = read_matrix(o.x, o.d)
    Y = read_matrix(o.y, o.l)
    if X.shape[0] != Y.shape[0]:
        sys.exit(f'{o.x} has {X.shape[0]} rows, {o.y} has {Y.shape[0]}')
    n, k = X.shape[0], o.k
    phase('read')

    Cxx = X.T @ X / n
    Cyx = Y.T @ X / n
    Cyy = Y.T @ Y / n
    my = Y.mean(axis=0)
    phase('pass1')

    Rx, Ry, Ph, zmean, _ = reduce_and_whiten(Cxx, Cyx, Cyy, my, k)
    phase('reduce')

    T = detector(X, Y, Rx, Ry, Ph, o.chunk)
    phase('pass2')

    basis, G, sv = null_space(T, n, k)
    Uc, jd = jennrich(basis, k, o.pairs, np.random.default_rng(o.seed))
    U, f = polish(Uc.T, G, k)                            # rows: the pure directions u_i
    phase('extract')

    sgn = np.where(U @ zmean < 0, -1.0, 1.0)
    W = (sgn[:, None] * (U @ Ph)) @ Rx                   # ŵ_i = sign(c_i)·Phᵀu_i, in x
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    A = readout(X, Y, W, o.chunk)
    phase('pass3')

    if o.out:
        with open(o.out, 'w') as fh:
            json.dump({'d': o.d, 'k': k, 'l': o.l, 'W': W.tolist(), 'A': A.tolist()}, fh)
    phase('write')
    ms['total'] = (time.perf_counter() - T_START) * 1e3

    gap = sv[k] / sv[k - 1] if sv[k - 1] > 0 else np.inf
    print(f'numpy-reference: n = {n}, (d,k,l) = ({o.d},{k},{o.l}), numpy {np.__version__}; '
          f'detector singular gap σ_k+1/σ_k = {gap:.3g}, joint-diagonalization residual {jd:.3g}', file=sys.stderr)
    print('numpy-reference: ' + ' · '.join(f'{key} {v:.0f} ms' for key, v in ms.items()), file=sys.stderr)
    print(json.dumps({'phasesMs': {key: round(v, 1) for key, v in ms.items()}}), file=sys.stderr)


if __name__ == '__main__':
    main()
