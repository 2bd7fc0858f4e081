// pureneuron wasm kernels (AssemblyScript, SIMD128, no relaxed SIMD). One family per file:
//   memory.ts   alloc/free for the JS glue (TLSF, runtime "minimal")
//   gemm.ts     packed 4×4-tiled f64x2 GEMM (gemmTN), projections, packing, column sums
//   moments.ts  pass 1 (moments1Batch)   detector.ts  pass 2 (detectorBatch)
//   readout.ts  pass 3 (readoutBatch)    eig.ts       symmetric eigensolver (symEig)
//   refine.ts   refinement sums (refineVarProBatch, refineHessianBatch, refineGradientBatch)
//   weights.ts  robust sample weights (robustWeightsBatch)
//   cholesky.ts refinement's dense SPD algebra (cholesky, triInverse)
//   polish.ts   the extraction's polish (detectorObjectives, polishDirections)
//   eigNonsym.ts general eigendecomposition, ml-matrix's bits (eigNonsym)
//   symmetry.ts the symmetry test's odd-moment sums (oddMomentsBatch, called by moments1Batch)
//
// ABI: every pointer is a byte offset into the exported memory (i32, pass `ptr >>> 0`-clean
// numbers), every matrix is f64 row-major unless a comment says "panels"; counts and
// leading dimensions are i32 element counts. Nothing here allocates: the glue lays out all
// buffers inside one scratch block obtained from `alloc` (src/kernels/wasm/index.ts).
// The batch kernels handle one batch of ≤ 256 rows each (the accumulation contract's batch).
// Optional per-row weights are passed as a pointer to the batch's ρ values, 0 for none.
export { alloc, free } from './memory';
export { gemmTN, colSum, packWT, packPanels, project, scalePanels } from './gemm';
export { moments1Batch } from './moments';
export { detectorBatch } from './detector';
export { readoutBatch } from './readout';
export { refineVarProBatch, refineHessianBatch, refineGradientBatch } from './refine';
export { robustWeightsBatch } from './weights';
export { symEig, transpose } from './eig';
export { cholesky, triInverse } from './cholesky';
export { detectorObjectives, polishDirections } from './polish';
export { eigNonsym } from './eigNonsym';
import { BATCH } from './gemm';

/** BATCH_ROWS as compiled in, so the glue can check it agrees with src/kernels/types.ts. */
export function batchRows(): i32 {
  return BATCH;
}
