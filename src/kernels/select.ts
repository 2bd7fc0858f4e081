/** Backend choice: 'auto' | 'js' | 'wasm', with PURENEURON_BACKEND as the environment override. */
import { PureneuronError } from '../errors.js';
import { jsKernels } from './js/index.js';
import type { Kernels } from './types.js';

export type BackendOption = 'auto' | 'js' | 'wasm';

export async function getKernels(backend: BackendOption = 'auto'): Promise<Kernels> {
  if (backend === 'js' || backend === 'auto') return jsKernels;
  throw new PureneuronError('BACKEND_UNAVAILABLE', 'the wasm backend is not built yet');
}
