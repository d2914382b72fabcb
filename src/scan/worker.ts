// Scan worker thread entry: receives batches of files, answers with their results.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeFile, SAMPLE_CHUNK, type AnalyzerState } from './analyze-file.ts';
import { TranscriptReader } from './libritts.ts';
import type { BatchRequest, BatchResponse, WorkerFaults } from './types.ts';

if (!parentPort) throw new Error('scan worker must run in a worker thread');

// Scan threads yield the CPU to the HTTP thread: on Linux a thread id is a valid target for
// setpriority(2), so this worker alone is niced. Elsewhere this is a no-op.
try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0 && tid !== process.pid) os.setPriority(tid, 10);
} catch {
  // not Linux, or not allowed: run at normal priority
}
const port = parentPort;

// Fault injection for tests of crash recovery; never set in production wiring.
const faults = (workerData as { faults?: WorkerFaults } | null)?.faults;

const state: AnalyzerState = { buffer: Buffer.alloc(SAMPLE_CHUNK), transcripts: new TranscriptReader() };

port.on('message', (msg: BatchRequest) => {
  if (msg.type !== 'batch') return;
  const results = msg.files.map((file) => {
    if (faults?.crashOn && file.rel.endsWith(faults.crashOn)) process.exit(70);
    return analyzeFile(msg.root, file, msg.analysis, state);
  });
  const response: BatchResponse = { type: 'result', id: msg.id, results };
  port.postMessage(response);
});
