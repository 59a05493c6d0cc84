/**
 * The dashboard's web server (node:http, 127.0.0.1 unless told otherwise): the page and its assets
 * (built by Vite into dist/dashboard, served from there, nothing from a CDN) and a JSON API over
 * the run folders it was given:
 *   GET /api/runs                        every run: method, backbone, step, loss, kNN, last update
 *   GET /api/runs/<name>                 one run: config, summary, cost, metrics, reports, pictures
 *   GET /api/runs/<name>/files/<path>    a picture or JSON file inside the run folder (no '..', no absolute paths)
 *   GET /api/runs/<name>/embedding-map   a UMAP of its features on a sample of labelled images
 * The page polls, so curves move while a run trains; run folders are read on every request.
 * Requests whose Host header names another machine are refused (a page on another site could
 * otherwise reach this server through DNS rebinding); only regular files are read, within a time limit.
 *
 * ```ts
 * const dashboard = await startDashboard({ roots: ['runs/'], port: 8080 });
 * console.log(dashboard.url); await dashboard.close();
 * ```
 */
import { existsSync, statSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EmbeddingMap, embeddingMap } from './embeddingMap.js';
import { readRegularFile } from '../io/index.js';
import { fileInRun, findRuns, runDetail, runSummary } from '../runs/index.js';

export interface DashboardOptions {
  /** run folders, or folders of runs */
  roots: string[];
  /** default 8080; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1 (this machine only) */
  host?: string;
  /** the built page (default dist/dashboard beside the package) */
  assets?: string;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.json': 'application/json; charset=utf-8', '.jsonl': 'text/plain; charset=utf-8',
};

export const DEFAULT_ASSETS = fileURLToPath(new URL('../../dashboard/', import.meta.url)); // dist/src/dashboard -> dist/dashboard

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'application/json; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}
const json = (res: ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value));

/** Files served from run folders and the page: at most this large, read within this time. */
const MAX_SERVED_BYTES = 256 * 2 ** 20;
const READ_TIMEOUT_MS = 10_000;

async function readServed(path: string): Promise<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => { timer = setTimeout(() => fail(new Error(`reading ${path} took more than ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS); });
  try {
    return await Promise.race([readRegularFile(path, MAX_SERVED_BYTES), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The names this server answers to: localhost, the address it listens on, and, when it listens on
 * every interface, this machine's name and addresses. A DNS-rebinding page sends its own domain.
 */
function allowedHosts(host: string): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '::1', host.toLowerCase()]);
  if (host === '0.0.0.0' || host === '::') {
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address.toLowerCase());
  }
  return names;
}

/** The host name of a Host header ('[::1]:8080' -> '::1', 'Example.com:80' -> 'example.com'), or null when malformed. */
function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed) return isIP(bracketed[1]) === 6 ? bracketed[1].toLowerCase() : null;
  const plain = /^([^:]+)(?::\d+)?$/.exec(header);
  return plain ? plain[1].toLowerCase() : null;
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const assets = resolve(o.assets ?? DEFAULT_ASSETS);
  if (!existsSync(join(assets, 'index.html'))) throw new Error(`${assets}: the dashboard page is not built (npm run build:dashboard; npm run setup does it)`);
  findRuns(o.roots); // refuse missing folders before listening
  const maps = new Map<string, { mtime: number; map: Promise<EmbeddingMap> }>();
  const hosts = allowedHosts(o.host ?? '127.0.0.1');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const host = hostOf(req.headers.host);
    if (host === null || !hosts.has(host)) {
      return json(res, 403, { error: `Host ${JSON.stringify(req.headers.host ?? '')} is not this dashboard's (${[...hosts].join(', ')})` });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: `${req.method} is not allowed` });
    // the path as sent (a URL parser would resolve '..' first), decoded, with any '..' segment refused
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    } catch {
      return json(res, 400, { error: 'malformed path' });
    }
    if (path.includes('\0') || !path.startsWith('/')) return json(res, 400, { error: 'malformed path' });
    if (path.split(/[\\/]/).includes('..')) return json(res, 403, { error: "paths with '..' are refused" });
    if (path.startsWith('/api/')) {
      const runs = findRuns(o.roots);
      if (path === '/api/runs') return json(res, 200, [...runs].map(([name, dir]) => runSummary(name, dir)));
      const match = /^\/api\/runs\/(.+?)(?:\/(files|embedding-map)(?:\/(.*))?)?$/.exec(path);
      const dir = match ? runs.get(match[1]) : undefined;
      if (!match || dir === undefined) return json(res, 404, { error: `no run ${JSON.stringify(match?.[1] ?? path)}` });
      if (match[2] === undefined) return json(res, 200, runDetail(match[1], dir));
      if (match[2] === 'files') {
        const file = fileInRun(dir, match[3] ?? '');
        if (file === null) return json(res, 403, { error: `${JSON.stringify(match[3] ?? '')} is not a file inside run ${match[1]}` });
        const type = TYPES[extname(file).toLowerCase()];
        if (!type) return json(res, 403, { error: `${extname(file)} files are not served` });
        return send(res, 200, await readServed(file), type);
      }
      const checkpoint = join(dir, 'checkpoint.safetensors');
      if (!existsSync(checkpoint)) return json(res, 404, { error: `run ${match[1]} has no checkpoint yet` });
      const mtime = statSync(checkpoint).mtimeMs;
      let cached = maps.get(dir);
      if (!cached || cached.mtime !== mtime) maps.set(dir, (cached = { mtime, map: embeddingMap(dir) }));
      try {
        return json(res, 200, await cached.map);
      } catch (error) {
        maps.delete(dir);
        return json(res, 500, { error: (error as Error).message });
      }
    }
    // the page: index.html for '/', assets by name, never outside the assets folder
    const file = resolve(assets, `.${path === '/' ? '/index.html' : path}`);
    if (!file.startsWith(assets + sep) || !existsSync(file) || !statSync(file).isFile()) return json(res, 404, { error: 'not found' });
    return send(res, 200, await readServed(file), TYPES[extname(file)] ?? 'application/octet-stream');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => json(res, 500, { error: error.message }));
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => ready());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}
