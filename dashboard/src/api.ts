// The dashboard server's JSON API (src/dashboard/server.ts).

export type MetricsRow = Record<string, number | boolean | null>;

export interface RunSummary {
  name: string;
  method: string | null;
  backbone: string | null;
  steps: number;
  loss: number | null;
  knnTop1: number | null;
  updated: number | null;
  finished: boolean;
}

export interface RunDetail extends RunSummary {
  config: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
  cost: Record<string, number> | null;
  metrics: MetricsRow[];
  skippedLines: number;
  reports: { file: string; report: Record<string, unknown> }[];
  pictures: string[];
}

export interface EmbeddingMap {
  points: [number, number][];
  labels: (number | null)[];
  classes: string[];
  data: string;
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { cache: 'no-store' });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

const run = (name: string) => `api/runs/${name.split('/').map(encodeURIComponent).join('/')}`;
export const listRuns = () => get<RunSummary[]>('api/runs');
export const runDetail = (name: string) => get<RunDetail>(run(name));
export const embeddingMap = (name: string) => get<EmbeddingMap>(`${run(name)}/embedding-map`);
export const fileUrl = (name: string, file: string) => `${run(name)}/files/${encodeURIComponent(file)}`;
