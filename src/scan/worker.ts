// Scan worker thread entry: receives batches of files, answers with their results.
import { parentPort } from 'node:worker_threads';
import { analyzeFile, SAMPLE_CHUNK, type AnalyzerState } from './analyze-file.ts';
import { TranscriptReader } from './libritts.ts';
import type { BatchRequest, BatchResponse } from './types.ts';

if (!parentPort) throw new Error('scan worker must run in a worker thread');
const port = parentPort;

const state: AnalyzerState = { buffer: Buffer.alloc(SAMPLE_CHUNK), transcripts: new TranscriptReader() };

port.on('message', (msg: BatchRequest) => {
  if (msg.type !== 'batch') return;
  const results = msg.files.map((file) => analyzeFile(msg.root, file, msg.analysis, state));
  const response: BatchResponse = { type: 'result', id: msg.id, results };
  port.postMessage(response);
});
