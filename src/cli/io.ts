/** Where CLI commands write: `out` for results (stdout), `err` for human messages (stderr). */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  signal?: AbortSignal;
}
