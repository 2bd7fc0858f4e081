/** Opening a path in a page (the browser bundles substitute this module): there are none. */
import { PureneuronError } from '../errors.js';

export async function openPath(path: string): Promise<never> {
  throw new PureneuronError('BAD_OPTION', `${path}: a page has no file paths; give File or Blob objects instead`);
}
