/**
 * Progress of learn() on the terminal: a cli-progress bar with rate and remaining time when
 * stderr is a TTY, one plain line per phase otherwise (logs, CI), nothing with --quiet.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../types.js';

export interface ProgressReporter {
  update(p: Progress): void;
  /** Ends the display; `ok` false (a failure) drops any pending line so the error stands alone. */
  stop(ok: boolean): void;
}

const LABEL: Record<Progress['phase'], string> = {
  pass1: 'pass 1/3 second moments',
  pass2: 'pass 2/3 detector       ',
  pass3: 'pass 3/3 second layer   ',
  refine: 'refinement              ',
};

export function progressReporter(mode: 'bar' | 'lines' | 'quiet', err: (s: string) => void): ProgressReporter {
  if (mode === 'quiet') return { update() {}, stop() {} };
  if (mode === 'lines') {
    let last = '';
    let lastTotal: number | undefined;
    let lastDone = 0;
    const flush = () => {
      if (last) err(`${LABEL[last as Progress['phase']].trim()}: ${lastDone}${lastTotal ? ` of ${lastTotal}` : ''} samples`);
    };
    return {
      update(p) {
        if (p.phase !== last) {
          flush();
          last = p.phase;
        }
        lastDone = p.done;
        lastTotal = p.total;
      },
      stop(ok) {
        if (ok) flush();
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} [{bar}] {percentage}% | {value}/{total} samples | {speed} samples/s | ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let phase = '';
  let started = false;
  let t0 = performance.now();
  return {
    update(p) {
      const total = p.total ?? Math.max(p.done, 1);
      if (p.phase !== phase) {
        phase = p.phase;
        t0 = performance.now();
        if (started) bar.stop();
        bar.start(total, 0, { phase: LABEL[p.phase], speed: 0 });
        started = true;
      }
      const speed = Math.round(p.done / Math.max((performance.now() - t0) / 1000, 1e-3));
      bar.setTotal(total);
      bar.update(p.done, { phase: LABEL[p.phase], speed });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
