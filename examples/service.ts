/**
 * pureneuron in a Node service: a small JSON-over-HTTP job server on node:http (no framework).
 *
 * Run it:  npx tsx examples/service.ts          (PORT=8080 by default, bound to 127.0.0.1)
 * Embed it:
 *   import { createService } from './examples/service.js';
 *   const { server, close } = createService({ maxConcurrentJobs: 2 });
 *   server.listen(0, '127.0.0.1');  …  await close();
 *
 * API (every body is JSON; every error is `{ "error": { "code"?, "message" } }`, message one line):
 *
 *   POST /jobs          start learning in the background → 202 { id, status: 'running' }
 *     body, samples given inline:
 *       { "x": number[][] (n rows of d) | number[] (flat, row-major n·d),
 *         "y": number[][] (n rows of l) | number[] (flat, row-major n·l),
 *         "d"?: number, "l"?: number      (required for flat arrays; checked against nested rows)
 *         "k": number | "auto",
 *         "options"?: { backend, detector, whitenY, reduceX, polish, jennrichPairs, seed,
 *                       weighting, robustScale, refine, refineSamples, errorEstimate,
 *                       workers, chunkRows } }            (learn()'s options bar k, signal, onProgress)
 *     body, samples in files on the server (only when the service was created with `dataDir`;
 *     paths are relative to it and may not leave it):
 *       { "files": { "x": path, "y": path, "format"?, "d"?, "l"? }          (x and y files)
 *                | { "data": path, "xColumns": SPEC, "yColumns": SPEC, "format"? }
 *                                       (Parquet, Arrow IPC / Feather, CSV with a header),
 *         "k": number | "auto", "options"?: { … as above } }    — fileSource()'s options
 *     body, a planted problem (handy for demos and tests):
 *       { "generate": { distribution, n, d, k, l, seed, noise, … generate()'s options },
 *         "k"?: number | "auto" (default generate.k), "options"?: { … as above } }
 *     errors:
 *       400  bad JSON (code BAD_JSON), a body of the wrong structure (BAD_REQUEST), a TypeError
 *            from the library (e.g. a string where a number belongs)
 *       413  body larger than maxBodyBytes (TOO_LARGE)
 *       422  values the library rejects before starting: PureneuronError BAD_OPTION (an
 *            option of learn() or generate() that its options table does not allow, checked
 *            through the library's resolveLearnOptions) or RangeError (shapes, k > min(d, l))
 *       429  maxConcurrentJobs learners already running (TOO_MANY_JOBS)
 *     Problems found while reading the data (NaN/Infinity — JSON numbers such as 1e400 parse to
 *     Infinity —, too few samples, rank deficiency, …) make the job 'failed' instead.
 *
 *   GET /jobs/:id       → 200 { id, status: 'running'|'done'|'failed'|'cancelled',
 *                               progress: { phase, done, total? },
 *                               model?: Model.toJSON() (when done), error?: { code?, message } }
 *                         404 for an unknown (or forgotten) id
 *   GET /jobs           → 200 { jobs: [{ id, status, progress }] }
 *   DELETE /jobs/:id    a running job: aborts its learn() through an AbortController; the status
 *                       is 'cancelled' at once and the service drops its references to the
 *                       samples (the learner lets go of them when its current chunk finishes).
 *                       A finished job: forgets it (a later GET is 404). → 200 with the job view.
 *   GET /health         → 200 { status: 'ok', running, jobs }
 *
 * Bounds: at most `maxConcurrentJobs` learners at a time (a cancelled one counts until its
 * learner has actually stopped, which is at most one chunk later), request bodies of at most
 * `maxBodyBytes`, planted problems of at most `maxGenerateValues` numbers, per-job `workers` of
 * at most `maxWorkersPerJob`, and the last `maxFinishedJobs` finished jobs kept for GET.
 *
 * The event loop: learn() runs the passes over the samples (the heavy, O(n) part) in worker
 * threads when the data span more than one chunk (options.workers 'auto', the default; or any
 * explicit count). Otherwise a job is small (at most chunkRows samples) and short. Either way
 * this service feeds learn() through a source that yields to the event loop between chunks, so
 * even `workers: 0` jobs interleave with HTTP traffic at chunk granularity. What still runs on
 * the event loop, in one piece: JSON.parse of the body and its conversion to Float64Array (up to
 * a few hundred ms for a 64 MB body), generate() for planted problems (≈ 0.05 s per million
 * numbers), and learn()'s extraction step between passes (k-dependent: milliseconds at k ≤ 6,
 * roughly 0.1–0.3 s at k ≈ 10–12). For heavy traffic run the service on several processes.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  arraySource,
  fileSource,
  generate,
  learn,
  PureneuronError,
  resolveLearnOptions,
  type FileSourceOptions,
  type GenerateOptions,
  type LearnOptions,
  type ModelJSON,
  type SampleSource,
} from '../src/index.js';

export interface ServiceOptions {
  /** Learners running at once; more POST /jobs get 429 (default 2). */
  maxConcurrentJobs?: number;
  /** Largest request body in bytes; larger get 413 (default 64 MiB). */
  maxBodyBytes?: number;
  /** Largest planted problem, n·(d + l) numbers (default 2e7 = 160 MB of Float64). */
  maxGenerateValues?: number;
  /** Largest `options.workers` a job may ask for (default: the available cores). */
  maxWorkersPerJob?: number;
  /** Finished (done, failed, cancelled) jobs kept for GET; the oldest are forgotten (default 100). */
  maxFinishedJobs?: number;
  /**
   * A directory whose files jobs may learn from ({ "files": … } bodies, paths relative to it).
   * Unset (the default), such bodies are refused: a client must not make the service read any
   * file it can reach.
   */
  dataDir?: string;
}

export interface Service {
  server: http.Server;
  /** Cancels every running job, waits for the learners to stop, closes the server and its connections. */
  close(): Promise<void>;
}

export type JobStatus = 'running' | 'done' | 'failed' | 'cancelled';

interface ErrorBody {
  code?: string;
  message: string;
}

interface JobProgress {
  phase: string;
  done: number;
  total?: number;
}

interface Job {
  id: string;
  status: JobStatus;
  progress: JobProgress;
  model?: ModelJSON;
  error?: ErrorBody;
  /** Present while the learner runs; dropped on settle or cancel. */
  controller?: AbortController;
}

/** An error with the HTTP status (and code) to answer with. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For 405: the Allow header. */
    readonly allow?: string,
  ) {
    super(message);
  }
}

const MiB = 1024 * 1024;

/** learn() options a request may set (k is top-level; signal and onProgress belong to the service). */
const RESERVED_OPTIONS = new Set(['k', 'signal', 'onProgress']);
const BODY_KEYS = new Set(['x', 'y', 'd', 'l', 'k', 'options', 'generate', 'files']);

export function createService(options: ServiceOptions = {}): Service {
  const maxConcurrentJobs = positive('maxConcurrentJobs', options.maxConcurrentJobs ?? 2);
  const maxBodyBytes = positive('maxBodyBytes', options.maxBodyBytes ?? 64 * MiB);
  const maxGenerateValues = positive('maxGenerateValues', options.maxGenerateValues ?? 2e7);
  const maxWorkersPerJob = positive('maxWorkersPerJob', options.maxWorkersPerJob ?? availableParallelism());
  const maxFinishedJobs = positive('maxFinishedJobs', options.maxFinishedJobs ?? 100);

  const jobs = new Map<string, Job>();
  /** Learners not yet settled (a cancelled job's learner counts until it has stopped). */
  const running = new Set<Promise<void>>();

  function forgetOldFinished(): void {
    let finished = 0;
    for (const j of jobs.values()) if (j.status !== 'running') finished++;
    for (const [id, j] of jobs) {
      if (finished <= maxFinishedJobs) break;
      if (j.status !== 'running') {
        jobs.delete(id);
        finished--;
      }
    }
  }

  /**
   * Starts learn() for a validated request. Resolves with the job once the learner is under
   * way, or throws the error learn() raised before touching the data (bad options, k out of
   * range), so the client gets a 4xx instead of a job that failed at once.
   */
  async function startJob(source: SampleSource, k: number | 'auto', learnOptions: Record<string, unknown>): Promise<Job> {
    const controller = new AbortController();
    const job: Job = { id: randomUUID(), status: 'running', progress: { phase: 'starting', done: 0, total: source.n }, controller };
    let early: unknown;
    let settled = false;
    const run = learn(yieldingSource(source), {
      ...(learnOptions as Partial<LearnOptions>),
      k,
      signal: controller.signal,
      onProgress: (p) => {
        job.progress = { phase: p.phase, done: p.done, total: p.total };
      },
    })
      .then(
        (model) => {
          if (job.status === 'running') {
            job.status = 'done';
            job.model = model.toJSON();
          }
        },
        (e: unknown) => {
          early = e;
          if (job.status === 'running') {
            job.status = 'failed';
            job.error = errorBody(e);
          }
        },
      )
      .finally(() => {
        settled = true;
        job.controller = undefined;
        running.delete(run);
        forgetOldFinished();
      });
    running.add(run);
    // learn() validates its options and the shapes synchronously, before its first await; this
    // service's source yields to the event loop before the first chunk, so anything settled
    // after one macrotask was a validation error (or a backend that is unavailable).
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (settled && job.status === 'failed') throw early;
    jobs.set(job.id, job);
    return job;
  }

  async function postJob(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Refuse before reading a possibly large body; checked again once it is parsed.
    if (running.size >= maxConcurrentJobs) throw tooMany(maxConcurrentJobs);
    const text = await readBody(req, maxBodyBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, 'BAD_JSON', `the request body is not valid JSON: ${(e as Error).message}`);
    }
    const { source, k, learnOptions } = await parseJobRequest(body, maxGenerateValues, maxWorkersPerJob, options.dataDir);
    if (running.size >= maxConcurrentJobs) throw tooMany(maxConcurrentJobs);
    const job = await startJob(source, k, learnOptions);
    send(res, 202, { id: job.id, status: job.status });
  }

  function deleteJob(job: Job, res: http.ServerResponse): void {
    if (job.status === 'running') {
      job.controller?.abort(new Error(`job ${job.id} was cancelled by DELETE /jobs/${job.id}`));
      job.controller = undefined;
      job.status = 'cancelled';
    } else {
      jobs.delete(job.id);
    }
    send(res, 200, view(job));
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/health') {
      if (method !== 'GET' && method !== 'HEAD') throw notAllowed('GET');
      return send(res, 200, { status: 'ok', running: running.size, jobs: jobs.size });
    }
    if (path === '/jobs') {
      if (method === 'POST') return postJob(req, res);
      if (method === 'GET') return send(res, 200, { jobs: [...jobs.values()].map(({ id, status, progress }) => ({ id, status, progress })) });
      throw notAllowed('GET, POST');
    }
    const m = /^\/jobs\/([^/]+)$/.exec(path);
    if (m) {
      const job = jobs.get(decodeURIComponent(m[1]));
      if (method !== 'GET' && method !== 'DELETE') throw notAllowed('GET, DELETE');
      if (!job) throw new HttpError(404, 'NOT_FOUND', `no job with id ${JSON.stringify(m[1])}`);
      if (method === 'DELETE') return deleteJob(job, res);
      return send(res, 200, view(job));
    }
    throw new HttpError(404, 'NOT_FOUND', `no route for ${method} ${url.pathname}`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = statusFor(e);
      if (status === 413) res.setHeader('Connection', 'close'); // do not read the rest of the body
      if (e instanceof HttpError && e.allow) res.setHeader('Allow', e.allow);
      if (status >= 500) console.error('pureneuron service:', e);
      send(res, status, { error: errorBody(e) });
    });
  });

  async function close(): Promise<void> {
    for (const job of jobs.values()) {
      if (job.status === 'running') {
        job.controller?.abort(new Error('the service is shutting down'));
        job.controller = undefined;
        job.status = 'cancelled';
      }
    }
    await Promise.allSettled([...running]);
    await new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  return { server, close };
}

/** The client's view of a job. */
function view(job: Job): Record<string, unknown> {
  const out: Record<string, unknown> = { id: job.id, status: job.status, progress: job.progress };
  if (job.model) out.model = job.model;
  if (job.error) out.error = job.error;
  return out;
}

/**
 * The source as is, but waiting one macrotask (setImmediate) before each chunk: an in-memory
 * source otherwise yields its chunks as microtasks, and a `workers: 0` learner would then run a
 * whole pass without letting the event loop serve requests (or see a DELETE).
 */
function yieldingSource(source: SampleSource): SampleSource {
  return {
    d: source.d,
    l: source.l,
    n: source.n,
    async *chunks(maxRows: number, signal?: AbortSignal) {
      for await (const chunk of source.chunks(maxRows, signal)) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yield chunk;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Requests

interface JobRequest {
  source: SampleSource;
  k: number | 'auto';
  learnOptions: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function badRequest(message: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', message);
}

async function parseJobRequest(body: unknown, maxGenerateValues: number, maxWorkersPerJob: number, dataDir: string | undefined): Promise<JobRequest> {
  if (!isObject(body)) throw badRequest('the body must be a JSON object: { x, y, d, l, k, options? }, { files: {…}, k, options? } or { generate: {…}, k?, options? }');
  for (const key of Object.keys(body)) {
    if (!BODY_KEYS.has(key)) throw badRequest(`unknown field "${key}"; valid fields: ${[...BODY_KEYS].join(', ')}`);
  }
  const learnOptions = parseLearnOptions(body.options, maxWorkersPerJob);
  if (body.k !== undefined) resolveLearnOptions({ k: body.k as number | 'auto' });

  if (body.files !== undefined) {
    for (const key of ['x', 'y', 'd', 'l', 'generate']) {
      if (body[key] !== undefined) throw badRequest(`give either "files" or "${key}", not both`);
    }
    if (body.k === undefined) throw badRequest('k is required: the number of hidden units, or "auto"');
    // fileSource reads headers and schemas now: a bad file or column SPEC is a 422 before the job starts.
    return { source: await openFiles(body.files, dataDir), k: body.k as number | 'auto', learnOptions };
  }

  if (body.generate !== undefined) {
    for (const key of ['x', 'y', 'd', 'l']) {
      if (body[key] !== undefined) throw badRequest(`give either "generate" or samples ("x", "y", "d", "l"), not both ("${key}" is set)`);
    }
    const g = body.generate;
    if (!isObject(g)) throw badRequest('generate must be an object such as { "n": 20000, "d": 8, "k": 4, "l": 6 }');
    const { n, d, l } = g;
    if (typeof n === 'number' && typeof d === 'number' && typeof l === 'number' && n * (d + l) > maxGenerateValues) {
      throw new HttpError(422, 'TOO_LARGE', `generate: n·(d + l) = ${n * (d + l)} numbers exceeds this service's limit of ${maxGenerateValues}`);
    }
    const planted = generate(g as unknown as GenerateOptions); // RangeError / TypeError on bad arguments
    const k = (body.k as number | 'auto' | undefined) ?? planted.truth.k;
    return { source: arraySource({ x: planted.x, y: planted.y, d: planted.d, l: planted.l }), k, learnOptions };
  }

  if (body.x === undefined || body.y === undefined) throw badRequest('give samples "x" and "y" (or "generate")');
  if (body.k === undefined) throw badRequest('k is required: the number of hidden units, or "auto"');
  for (const key of ['d', 'l'] as const) {
    if (body[key] !== undefined && typeof body[key] !== 'number') throw badRequest(`${key} must be a number, got ${JSON.stringify(body[key])}`);
  }
  const x = toMatrix('x', body.x, body.d as number | undefined, 'd');
  const y = toMatrix('y', body.y, body.l as number | undefined, 'l');
  // arraySource checks the shapes (TypeError / RangeError), e.g. that x and y have the same rows.
  const source = arraySource({ x: x.values, y: y.values, d: x.width, l: y.width });
  return { source, k: body.k as number | 'auto', learnOptions };
}

const FILE_KEYS = new Set(['x', 'y', 'data', 'xColumns', 'yColumns', 'format', 'd', 'l']);

/** The file source of a { files } body, its paths confined to dataDir. */
async function openFiles(files: unknown, dataDir: string | undefined): Promise<SampleSource> {
  if (dataDir === undefined) throw new HttpError(403, 'NO_FILES', 'this service learns from files only when it is started with a data directory (createService({ dataDir }))');
  if (!isObject(files)) throw badRequest('files must be an object: { x, y, format?, d?, l? } or { data, xColumns, yColumns, format? }');
  for (const key of Object.keys(files)) {
    if (!FILE_KEYS.has(key)) throw badRequest(`unknown field "files.${key}"; valid fields: ${[...FILE_KEYS].join(', ')}`);
  }
  const root = resolve(dataDir);
  const inside = (name: string): string | undefined => {
    const v = files[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw badRequest(`files.${name} must be a path relative to the data directory`);
    const p = resolve(root, v);
    if (p !== root && !p.startsWith(root + sep)) throw new HttpError(403, 'OUTSIDE_DATA_DIR', `files.${name} ${JSON.stringify(v)} is outside the data directory`);
    return p;
  };
  return fileSource({ ...(files as FileSourceOptions), x: inside('x'), y: inside('y'), data: inside('data') });
}

/** A nested (rows of numbers) or flat JSON array as row-major Float64Array values and a row width. */
function toMatrix(name: 'x' | 'y', v: unknown, width: number | undefined, widthName: 'd' | 'l'): { values: Float64Array; width: number } {
  if (!Array.isArray(v)) throw badRequest(`${name} must be an array (rows of numbers, or flat row-major numbers)`);
  if (v.length === 0) throw new RangeError(`${name} is empty: need at least one sample`);
  if (Array.isArray(v[0])) {
    const w = (v[0] as unknown[]).length;
    if (width !== undefined && width !== w) throw new RangeError(`${name} rows have ${w} values but ${widthName} = ${width}`);
    const values = new Float64Array(v.length * w);
    for (let i = 0; i < v.length; i++) {
      const row: unknown = v[i];
      if (!Array.isArray(row)) throw new TypeError(`${name}[${i}] must be an array of ${w} numbers, got ${typeName(row)}`);
      if (row.length !== w) throw new RangeError(`${name}[${i}] has ${row.length} values, expected ${w} (the length of ${name}[0])`);
      for (let j = 0; j < w; j++) {
        const e: unknown = row[j];
        if (typeof e !== 'number') throw new TypeError(`${name}[${i}][${j}] is ${typeName(e)}; expected a number`);
        values[i * w + j] = e;
      }
    }
    return { values, width: w };
  }
  if (width === undefined) throw badRequest(`${widthName} is required when ${name} is a flat array`);
  const values = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const e: unknown = v[i];
    if (typeof e !== 'number') throw new TypeError(`${name}[${i}] is ${typeName(e)}; expected a number`);
    values[i] = e;
  }
  return { values, width };
}

function parseLearnOptions(v: unknown, maxWorkersPerJob: number): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v)) throw badRequest('options must be an object of learn() options');
  for (const key of Object.keys(v)) {
    if (RESERVED_OPTIONS.has(key)) throw badRequest(`options.${key} cannot be set by a request${key === 'k' ? ' (give k at the top level)' : ''}`);
  }
  // Names and values through the library's own options table (PureneuronError BAD_OPTION →
  // 422), before any job starts; k is checked with the rest once the request has given it.
  resolveLearnOptions({ ...(v as Partial<LearnOptions>), k: 'auto' });
  const w = v.workers;
  if (typeof w === 'number' && w > maxWorkersPerJob) {
    throw new PureneuronError('BAD_OPTION', `workers = ${w} exceeds this service's limit of ${maxWorkersPerJob} per job`);
  }
  return { ...v };
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}` : typeof v;
}

/** Reads the body as UTF-8 text, refusing (413) more than `limit` bytes. */
function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (b: Buffer) => {
      size += b.length;
      if (size > limit) {
        req.off('data', onData);
        parts.length = 0;
        reject(tooLarge(limit));
        return;
      }
      parts.push(b);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Responses

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

const tooMany = (max: number) => new HttpError(429, 'TOO_MANY_JOBS', `${max} job(s) are already running; retry when one has finished or cancel one`);
const tooLarge = (limit: number) => new HttpError(413, 'TOO_LARGE', `the request body exceeds ${limit} bytes`);
const notAllowed = (allow: string) => new HttpError(405, 'METHOD_NOT_ALLOWED', `method not allowed; allowed: ${allow}`, allow);

/** 400 for malformed requests and TypeErrors, 422 for values the library rejects, 500 otherwise. */
function statusFor(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (e instanceof TypeError) return 400;
  if (e instanceof RangeError || e instanceof PureneuronError) return 422;
  return 500;
}

function errorBody(e: unknown): ErrorBody {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
  if (e instanceof HttpError || e instanceof PureneuronError) return { code: e.code, message };
  if (e instanceof TypeError || e instanceof RangeError) return { message: `${e.name}: ${message}` };
  return { message };
}

function positive(name: string, v: number): number {
  if (!(typeof v === 'number' && v >= 1 && Number.isFinite(v))) throw new RangeError(`createService: ${name} must be a number ≥ 1, got ${String(v)}`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Run directly: listen on 127.0.0.1:$PORT (default 8080).

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`pureneuron service: PORT must be an integer in [0, 65535], got ${JSON.stringify(process.env.PORT)}`);
    process.exit(2);
  }
  const service = createService();
  service.server.listen(port, '127.0.0.1', () => {
    const addr = service.server.address();
    console.log(`pureneuron service listening on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`);
  });
  const stop = () => {
    service.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
