/**
 * Seeded pseudo-random numbers for planted problems, tests and the learner's random choices.
 *
 * Generator: xoshiro128** (Blackman & Vigna, 2018): 128 bits of state in four 32-bit words,
 * period 2^128 − 1, passes BigCrush. It needs only 32-bit integer operations (Math.imul, shifts),
 * so it runs at full speed in V8 without BigInt.
 *
 * Seeding: the (seed, stream) pair is hashed into the four state words with the murmur3 32-bit
 * finalizer (a bijection on 32-bit words), chained over the low word of the seed, the high word
 * of the seed and the stream number, with a distinct salt per state word. Nearby seeds (1, 2, 3…)
 * therefore give unrelated states, and `stream` gives independent sequences for the same seed
 * (generate() uses one stream for the network, one for the data and one for the noise, so that
 * changing n or the noise level does not change the planted network or the inputs).
 *
 * Never uses Math.random: every sequence is a pure function of (seed, stream).
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_M53 = 1 / 9007199254740992; // 2^-53
const TWO_POW_M31 = 1 / 2147483648; // 2^-31

/** murmur3 fmix32: a bijective 32-bit mixer with full avalanche. Returns an int32. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

export class Rng {
  // xoshiro128** state, stored as int32 (only the bit patterns matter).
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  // Marsaglia's polar method yields normals in pairs; the second one is cached here.
  private spare = 0;
  private hasSpare = false;

  /**
   * @param seed any finite number; integers are the intended use. Its low and high 32-bit words
   *   (of the integer part, two's complement for negatives) both enter the state.
   * @param stream selects an independent sequence for the same seed (any 32-bit integer).
   */
  constructor(seed = 1, stream = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed = ${seed} must be a finite number`);
    if (!Number.isInteger(stream)) throw new RangeError(`stream = ${stream} must be an integer`);
    const t = Math.trunc(seed);
    const lo = t | 0; // ToInt32 takes the value modulo 2^32, i.e. the low word
    const hi = Math.floor(t / TWO_POW_32) | 0;
    const words = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) {
      let h = fmix32(lo ^ Math.imul(i + 1, 0x9e3779b9));
      h = fmix32(h ^ hi ^ 0x6a09e667);
      h = fmix32(h ^ (stream | 0) ^ 0x3c6ef372);
      words[i] = h;
    }
    // The all-zero state is the one fixed point of xoshiro; never start there.
    if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1;
    this.s0 = words[0];
    this.s1 = words[1];
    this.s2 = words[2];
    this.s3 = words[3];
  }

  /**
   * An Rng started from an explicit xoshiro128** state (four 32-bit words, not all zero); for
   * checking against the reference implementation and for resuming a saved sequence.
   */
  static fromState(state: readonly [number, number, number, number]): Rng {
    if ((state[0] | state[1] | state[2] | state[3]) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    const r = new Rng(0);
    r.s0 = state[0] | 0;
    r.s1 = state[1] | 0;
    r.s2 = state[2] | 0;
    r.s3 = state[3] | 0;
    return r;
  }

  /** Next raw output as a signed 32-bit integer (same bits as nextUint32; stays a V8 small int). */
  nextInt32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    const s2 = this.s2 ^ s0;
    const s3 = this.s3 ^ s1;
    this.s1 = s1 ^ s2;
    this.s0 = s0 ^ s3;
    this.s2 = s2 ^ t;
    this.s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** Next raw output: a uniform integer in [0, 2^32). */
  nextUint32(): number {
    return this.nextInt32() >>> 0;
  }

  /** Uniform in [0, 1) on the grid of multiples of 2^-53 (27 + 26 high bits of two outputs). */
  uniform(): number {
    const a = this.nextInt32() >>> 5;
    const b = this.nextInt32() >>> 6;
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /**
   * Standard normal N(0, 1) by Marsaglia's polar method (exact, no approximation of the
   * inverse CDF); the pair's second value is cached and returned by the next call.
   * The point (u, v) is drawn on the grid (i + ½)·2^-31, i ∈ [−2^31, 2^31), one 32-bit output
   * per coordinate: half the cost of 53-bit uniforms, exactly symmetric under (u, v) → (−u, −v),
   * and fine enough that the grid only matters beyond |z| ≈ 9 (probability < 1e-18).
   */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = (this.nextInt32() + 0.5) * TWO_POW_M31;
      v = (this.nextInt32() + 0.5) * TWO_POW_M31;
      s = u * u + v * v;
    } while (s >= 1); // s > 0 always: the grid excludes 0
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /**
   * Laplace(0, scale): density exp(−|x|/scale)/(2·scale), variance 2·scale². The default scale
   * 1/√2 gives unit variance. Drawn as a random sign times an exponential, so it is exactly
   * symmetric.
   */
  laplace(scale = Math.SQRT1_2): number {
    // 1 − uniform() is in (0, 1], so the logarithm is finite.
    const e = -Math.log(1 - this.uniform());
    return this.sign() * scale * e;
  }

  /**
   * Gamma(shape, 1) by Marsaglia & Tsang (2000) for shape ≥ 1, boosted by U^(1/shape) for
   * shape < 1.
   */
  gamma(shape: number): number {
    if (!(shape > 0) || !Number.isFinite(shape)) throw new RangeError(`gamma shape = ${shape} must be a finite number > 0`);
    if (shape < 1) {
      const g = this.gamma(shape + 1);
      return g * Math.pow(1 - this.uniform(), 1 / shape);
    }
    const dd = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * dd);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return dd * v;
      if (Math.log(u) < 0.5 * x2 + dd * (1 - v + Math.log(v))) return dd * v;
    }
  }

  /**
   * Student-t with `df` degrees of freedom (df > 0, not necessarily an integer):
   * Z / sqrt(χ²_df / df) with χ²_df = 2·Gamma(df/2). Unscaled: variance df/(df − 2) for df > 2.
   */
  studentT(df: number): number {
    if (!(df > 0) || !Number.isFinite(df)) throw new RangeError(`df = ${df} must be a finite number > 0`);
    const z = this.normal();
    const chi2 = 2 * this.gamma(df / 2);
    return z / Math.sqrt(chi2 / df);
  }

  /** Uniform integer in [0, n) for a positive integer n ≤ 2^53 (bias ≤ n·2^-53, negligible). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`int(n): n = ${n} must be a positive integer`);
    if (n <= TWO_POW_32) {
      // Rejection of the top partial block keeps it exactly uniform.
      const limit = TWO_POW_32 - (TWO_POW_32 % n);
      let r: number;
      do r = this.nextUint32();
      while (r >= limit);
      return r % n;
    }
    return Math.floor(this.uniform() * n);
  }

  /** +1 or −1 with probability ½ each (the top bit of one output). */
  sign(): number {
    return this.nextInt32() < 0 ? 1 : -1;
  }
}
