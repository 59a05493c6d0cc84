/**
 * `selfsup dashboard runs/ [more runs] [--port 8080] [--host 127.0.0.1]`: serves the dashboard of
 * the given run folders (or folders of runs) on this machine only, unless --host says otherwise,
 * until interrupted.
 */
import { startDashboard } from '../dashboard/server.js';
import { findRuns } from '../runs/index.js';
import { UsageError, integerOption, parseWithPositionals } from './options.js';

export const DASHBOARD_USAGE = `usage: selfsup dashboard <run folder or folder of runs> ... [--port 8080] [--host 127.0.0.1]

  A web page of the runs: live curves (loss, learning rate, kNN accuracy, images/s, collapse metrics
  with the 1/sqrt(d) line), config, cost estimate, evaluation reports, the pictures in each run folder
  (augmentation previews, MAE reconstructions, attention maps, retrieval galleries; write them there),
  an embedding map (UMAP of the backbone's features), and several runs compared.
  --port <n>     default 8080 (0: any free port)
  --host <addr>  default 127.0.0.1, this machine only; another address serves the run folders to the network`;

export async function dashboardCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseWithPositionals(argv, { port: { type: 'string' }, host: { type: 'string' } });
  if (positionals.length === 0) throw new UsageError('expected run folders (or a folder of runs) to show');
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  const dashboard = await startDashboard({ roots: positionals, port: integerOption(values, 'port', 8080, 0), host });
  const runs = findRuns(positionals);
  console.log(`selfsup dashboard: ${runs.size} run(s) at ${dashboard.url} (Ctrl-C to stop)`);
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') console.error(`selfsup dashboard: listening on ${host}: other machines can read these run folders`);
  await new Promise<void>((stop) => {
    const close = () => { void dashboard.close().then(() => stop()); };
    process.once('SIGINT', close);
    process.once('SIGTERM', close);
  });
}
