// The dashboard page: the list of runs, a run's detail (live curves, config, cost, reports,
// pictures, embedding map) and a comparison of several runs. Routes are hash paths:
// #/, #/run/<name>, #/compare/<name>,<name>. The page polls the server every 2 s.
import { type RunDetail, type RunSummary, embeddingMap, fileUrl, listRuns, runDetail } from './api';
import { COLOURS, MetricChart } from './charts';
import './style.css';

const app = document.getElementById('app')!;
const status = document.getElementById('status')!;
const POLL_MS = 2000;
let timer: number | undefined;

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
};
const fmt = (v: unknown, digits = 4) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : v === null || v === undefined ? '' : String(v));
const pct = (v: number | null) => (v === null ? '' : `${(100 * v).toFixed(2)}%`);
const ago = (ms: number | null) => (ms === null ? '' : `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago`);

/** Repeats `refresh` every POLL_MS until the route changes; errors show in the header. */
function poll(refresh: () => Promise<void>): void {
  const tick = async () => {
    try {
      await refresh();
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      status.textContent = `error: ${(error as Error).message}`;
    }
    timer = window.setTimeout(tick, POLL_MS);
  };
  void tick();
}

function listView(): void {
  const selected = new Set<string>();
  const compare = el('button', { id: 'compare', disabled: '' }, 'compare selected runs');
  compare.addEventListener('click', () => { location.hash = `#/compare/${[...selected].map(encodeURIComponent).join(',')}`; });
  const body = el('tbody');
  const table = el('table', { id: 'runs' }, el('thead', {}, el('tr', {}, ...['', 'run', 'method', 'backbone', 'step', 'loss', 'kNN top-1', 'updated', ''].map((h) => el('th', {}, h)))), body);
  app.replaceChildren(el('h1', {}, 'Runs'), table, compare);
  // rows are updated in place, so a checkbox keeps its state (and its element) across polls
  const rows = new Map<string, HTMLTableRowElement>();
  const render = (runs: RunSummary[]) => {
    const wanted = runs.map((r) => {
      let row = rows.get(r.name);
      if (!row) {
        const box = el('input', { type: 'checkbox' }) as HTMLInputElement;
        box.addEventListener('change', () => {
          if (box.checked) selected.add(r.name); else selected.delete(r.name);
          compare.toggleAttribute('disabled', selected.size < 2);
        });
        const link = el('a', { href: `#/run/${encodeURIComponent(r.name)}`, class: 'run-link' }, r.name);
        row = el('tr', { 'data-run': r.name }, el('td', {}, box), el('td', {}, link), ...Array.from({ length: 7 }, () => el('td')));
        rows.set(r.name, row);
      }
      const cells = [r.method ?? '', r.backbone ?? '', fmt(r.steps), fmt(r.loss), pct(r.knnTop1), ago(r.updated), r.finished ? 'finished' : 'running'];
      cells.forEach((text, i) => { row!.cells[i + 2].textContent = text; });
      return row;
    });
    const same = wanted.length === body.children.length && wanted.every((row, i) => body.children[i] === row);
    if (!same) body.replaceChildren(...wanted);
  };
  poll(async () => render(await listRuns()));
}

/** The charts a run's metrics call for: the common ones, then every other numeric key (method metrics). */
function chartsFor(parent: HTMLElement, rows: RunDetail['metrics']): MetricChart[] {
  const charts = [
    ...['loss', 'lr', 'knn_top1', 'img_per_s'].map((k) => new MetricChart(parent, k)),
    new MetricChart(parent, 'collapse/std', undefined, { key: 'collapse/std_reference', label: '1/sqrt(d)' }),
    new MetricChart(parent, 'collapse/effective_rank'),
  ];
  const shown = new Set([...charts.map((c) => c.key), 'collapse/std_reference', 'step', 'epoch', 'time', 'knn_top5']);
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => typeof r[k] === 'number')))].filter((k) => !shown.has(k)).sort();
  return [...charts, ...extra.map((k) => new MetricChart(parent, k))];
}

function reportLine(report: Record<string, unknown>): string {
  const keys = ['top1', 'mAP50', 'mAP', 'mIoU', 'meanCorrupted', 'clean', 'mCE'];
  return keys.filter((k) => typeof report[k] === 'number').map((k) => `${k} ${k === 'mCE' ? fmt(report[k], 3) : pct(report[k] as number)}`).join(', ');
}

function drawEmbeddingMap(canvas: HTMLCanvasElement, legend: HTMLElement, map: Awaited<ReturnType<typeof embeddingMap>>): void {
  const ctx = canvas.getContext('2d')!;
  const xs = map.points.map((p) => p[0]);
  const ys = map.points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  map.points.forEach(([x, y], i) => {
    const label = map.labels[i];
    ctx.fillStyle = label === null ? '#888' : COLOURS[label % COLOURS.length] + (label >= COLOURS.length ? '99' : '');
    ctx.beginPath();
    ctx.arc(10 + ((x - x0) / (x1 - x0 || 1)) * (canvas.width - 20), 10 + ((y - y0) / (y1 - y0 || 1)) * (canvas.height - 20), 3, 0, 2 * Math.PI);
    ctx.fill();
  });
  canvas.dataset.points = String(map.points.length);
  legend.replaceChildren(...map.classes.map((c, i) => el('span', { class: 'swatch', style: `color:${COLOURS[i % COLOURS.length]}` }, `● ${c}`)));
}

function detailView(name: string): void {
  const head = el('div', { class: 'run-head' });
  const grid = el('section', { class: 'charts' });
  const side = el('section', { class: 'side' });
  const pictures = el('section', { class: 'pictures' });
  const mapCanvas = el('canvas', { id: 'embedding-map', width: '480', height: '360' }) as HTMLCanvasElement;
  const legend = el('div', { class: 'legend' });
  const mapButton = el('button', { id: 'embedding-button' }, 'compute the embedding map (UMAP of the backbone\'s features)');
  mapButton.addEventListener('click', async () => {
    mapButton.textContent = 'computing ...';
    try {
      drawEmbeddingMap(mapCanvas, legend, await embeddingMap(name));
      mapButton.textContent = 'recompute the embedding map';
    } catch (error) {
      mapButton.textContent = `embedding map: ${(error as Error).message}`;
    }
  });
  app.replaceChildren(el('p', {}, el('a', { href: '#/' }, '← runs')), head, grid, side, el('h2', {}, 'Pictures in the run folder'), pictures,
    el('h2', {}, 'Embedding map'), mapButton, mapCanvas, legend);
  app.dataset.view = 'detail';
  let charts: MetricChart[] | null = null;
  let shownPictures = '';
  poll(async () => {
    const run = await runDetail(name);
    head.replaceChildren(el('h1', { id: 'run-title' }, run.name),
      el('p', {}, `${run.method ?? '?'} on ${run.backbone ?? '?'} · step ${run.steps} · ${run.finished ? 'finished' : `running (updated ${ago(run.updated)})`}` +
        (run.skippedLines ? ` · ${run.skippedLines} unreadable metrics line(s) skipped` : '')));
    charts ??= chartsFor(grid, run.metrics);
    for (const chart of charts) chart.update([{ label: run.name, rows: run.metrics }]);
    const cost = run.cost ? el('table', {}, ...Object.entries(run.cost).map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, fmt(v, 2))))) : el('p', {}, 'no cost estimate');
    const reports = el('table', {}, ...run.reports.map((r) => el('tr', {}, el('th', {}, `${r.report.kind}`), el('td', {}, r.file), el('td', {}, reportLine(r.report)))));
    side.replaceChildren(el('div', {}, el('h2', {}, 'Cost estimate'), cost), el('div', {}, el('h2', {}, 'Evaluations'), reports),
      el('div', {}, el('h2', {}, 'Config'), el('pre', { id: 'config' }, JSON.stringify(run.config, null, 2))));
    const list = run.pictures.join('|');
    if (list !== shownPictures) {
      shownPictures = list;
      pictures.replaceChildren(...run.pictures.map((p) => el('figure', {}, el('img', { src: `${fileUrl(name, p)}?t=${Date.now()}`, alt: p }), el('figcaption', {}, p))));
    }
  });
}

function compareView(names: string[]): void {
  const grid = el('section', { class: 'charts' });
  const table = el('table', { id: 'compared' });
  app.replaceChildren(el('p', {}, el('a', { href: '#/' }, '← runs')), el('h1', {}, `Comparing ${names.join(', ')}`), table, grid);
  const charts = ['loss', 'knn_top1', 'img_per_s', 'collapse/std'].map((k) => new MetricChart(grid, k));
  poll(async () => {
    const runs = await Promise.all(names.map(runDetail));
    for (const chart of charts) chart.update(runs.map((r) => ({ label: r.name, rows: r.metrics })));
    table.replaceChildren(el('tr', {}, ...['run', 'method', 'backbone', 'step', 'loss', 'kNN top-1', 'images/s'].map((h) => el('th', {}, h))),
      ...runs.map((r) => el('tr', {}, el('td', {}, r.name), el('td', {}, r.method ?? ''), el('td', {}, r.backbone ?? ''), el('td', {}, fmt(r.steps)), el('td', {}, fmt(r.loss)),
        el('td', {}, pct(r.knnTop1)), el('td', {}, fmt(r.summary?.imagesPerSecond, 1)))));
  });
}

function route(): void {
  window.clearTimeout(timer);
  const hash = decodeURIComponent(location.hash.slice(1));
  const [, view, arg] = /^\/(run|compare)\/(.+)$/.exec(hash) ?? [];
  app.dataset.view = view ?? 'list';
  if (view === 'run') detailView(arg);
  else if (view === 'compare') compareView(arg.split(','));
  else listView();
}

window.addEventListener('hashchange', route);
route();
