// `npm run bench [-- options]`: runs the benchmarks, prints a table of figures and ratios against
// baselines measured in the same run, and writes the results as JSON.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { clusterBench } from './cluster.ts';
import { fullBench } from './full.ts';
import { headerBench } from './header.ts';
import { latencyBench } from './latency.ts';
import { libraryBench } from './library.ts';
import { reuseBench } from './reuse.ts';
import { table, type BenchResult } from './lib/report.ts';
import { memoryBench } from './memory.ts';
import { sseBench } from './sse.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ALL = ['header', 'full', 'latency', 'sse', 'memory', 'library', 'reuse', 'cluster'] as const;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    cold: { type: 'boolean', default: true },
    'no-cold': { type: 'boolean', default: false },
    'header-files': { type: 'string' },
    'header-small': { type: 'string' },
    'full-mb': { type: 'string' },
    runs: { type: 'string' },
    requests: { type: 'string' },
    'sse-clients': { type: 'string' },
    'sse-tasks': { type: 'string' },
    'mem-small': { type: 'string' },
    'mem-large': { type: 'string' },
    'library-rows': { type: 'string' },
    corpus: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`npm run bench -- [--only ${ALL.join(',')}] [--smoke] [--no-cold]
  --header-files N   header corpus size (default 50000)     --full-mb N      full-analysis corpus (default 2100)
  --header-small N   second, small header corpus (5000; 0: none)
  --runs N           repetitions, the median is kept (3)    --requests N     POSTs per latency run (2000)
  --sse-clients N    clients on one task (1000)             --sse-tasks N    tasks with 10 clients each (100)
  --mem-small N      small tree for memory (10000)          --mem-large N    large tree (100000)
  --library-rows N   synthetic task for filters (375000)
  --corpus DIR       where corpora are cached (bench/.corpus)  --out FILE     JSON output (bench/results/latest.json)
  --smoke            tiny sizes, for the test suite; --no-cold skips the cold-cache runs (they need root)
`);
  process.exit(0);
}

const smoke = values.smoke;
const num = (v: string | undefined, full: number, tiny: number) => (v ? Number(v) : smoke ? tiny : full);
const only = (values.only?.split(',') ?? [...ALL]) as string[];
for (const name of only) if (!(ALL as readonly string[]).includes(name)) throw new Error(`unknown benchmark ${name}; choose from ${ALL.join(', ')}`);
const corpusDir = path.resolve(values.corpus ?? path.join(HERE, '.corpus'));
const cold = !smoke && values.cold && !values['no-cold'];
const runs = num(values.runs, 3, 1);
const fullMb = num(values['full-mb'], 2100, 20);
const headerFiles = num(values['header-files'], 50_000, 300);

const results: BenchResult[] = [];
const started = Date.now();
for (const name of only) {
  process.stderr.write(`running ${name}…\n`);
  if (name === 'header') results.push(await headerBench({ files: headerFiles, smallFiles: num(values['header-small'], 5000, 0), corpusDir, workers: 2, runs, cold }));
  if (name === 'full') results.push(await fullBench({ megabytes: fullMb, corpusDir, runs, cold }));
  if (name === 'latency') results.push(await latencyBench({ requests: num(values.requests, 2000, 60), corpusDir, fullMegabytes: fullMb, headerFiles }));
  if (name === 'sse') results.push(await sseBench({ clients: num(values['sse-clients'], 1000, 20), tasks: num(values['sse-tasks'], 100, 4), clientsPerTask: smoke ? 3 : 10, corpusDir, fullMegabytes: fullMb }));
  if (name === 'cluster') results.push(await clusterBench({ corpusDir, fullMegabytes: fullMb, headerFiles, runs, requests: num(values.requests, 2000, 60) }));
  if (name === 'library') results.push(await libraryBench({ rows: num(values['library-rows'], 375_000, 3000), pages: smoke ? 2 : 10, runs }));
  if (name === 'reuse') results.push(await reuseBench({ corpusDir, fullMegabytes: fullMb, headerFiles, runs, cold }));
  if (name === 'memory') results.push(await memoryBench({ small: num(values['mem-small'], 10_000, 200), large: num(values['mem-large'], 100_000, 2000), corpusDir }));
}

const report = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` },
  smoke,
  seconds: (Date.now() - started) / 1000,
  results,
};
const out = path.resolve(values.out ?? path.join(HERE, 'results', smoke ? 'smoke.json' : 'latest.json'));
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
process.stdout.write(`${table(results)}\n\n${report.machine.cpus} × ${report.machine.cpu}, ${report.machine.memory_gb} GB, Node ${report.machine.node}; ${report.seconds.toFixed(0)} s; written to ${path.relative(process.cwd(), out)}\n`);
