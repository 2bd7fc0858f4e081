// The esbuild plugin of every browser bundle (the library's dist/browser.js and the Web Worker
// script): the host's modules swapped for their browser twins, and any `node:` import an error,
// so nothing Node-only reaches a page unnoticed.
import { relative, resolve } from 'node:path';

export const BROWSER_SWAPS = {
  'src/parallel/platform.ts': 'src/parallel/platform.browser.ts',
  'src/parallel/threads.ts': 'src/parallel/threads.browser.ts',
  'src/sources/openPath.ts': 'src/sources/openPath.browser.ts',
};

export const browserOnly = {
  name: 'browser-only',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ errors: [{ text: `${args.path}, imported by ${relative('.', args.importer)}, is a Node built-in: a browser bundle must not reach it` }] }));
    b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const swap = BROWSER_SWAPS[relative('.', resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')))];
      return swap ? { path: resolve(swap) } : undefined;
    });
  },
};
