// Scan worker thread entry: walks trees, reads batches of files and sidecars, answers by message.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SAMPLE_CHUNK, type AnalyzerState } from './analyze-file.ts';
import { sampleBuffer } from './int16-kernel.ts';
import { readSpeakerInfo, TranscriptReader } from './libritts.ts';
import { nativeIo } from './native-io.ts';
import { folderPlan } from './plan.ts';
import { HeaderRecords, readBatch, type BatchReader } from './read-batch.ts';
import { verifyRoot } from './safe-open.ts';
import { tally, type Analysis, type RecordedFile, type SummaryRow } from '../domain/file-result.ts';
import { SqliteRowWriter } from '../store/sqlite/row-writer.ts';
import { StorageFullError, type RowTarget } from '../store/types.ts';
import { ScanAggregator } from './summary.ts';
import type { DiscoveredFile, ScanItem, WorkerFaults, WorkerRequest, WorkerResponse, WrittenBatch } from './types.ts';
import { eachFile } from './folder-files.ts';
import { unchanged } from './unchanged.ts';
import { fingerprintFiles, walkPacked, walkWavFiles } from './walk.ts';

if (!parentPort) throw new Error('scan worker must run in a worker thread');

const data = (workerData ?? {}) as { faults?: WorkerFaults; roots?: string[]; lane?: 'read' | 'list'; writing?: SharedArrayBuffer };

// Scan threads yield the CPU to the HTTP thread: they run under SCHED_IDLE where the native addon
// can set it (scan-io.c idleThread), so that a waking event loop takes the CPU from them at once.
// At nice 10 (reading) and 5 (listing) it waited out their slices: the latency benchmark's POST
// p99 with two full scans running was 8–13 ms; 6–8 ms in nine runs with every scan thread idle,
// 7–11 ms in ten with the listing thread left at nice 5. The listing thread loses its precedence
// over the reading ones (nice ignores idle threads), which cost nothing measurable: 5,000-file
// header scans, three interleaved pairs of 5 rounds, 78–98k files/s either way. Without the addon,
// the old nice values: on Linux a thread id is a valid target for setpriority(2).
try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0 && tid !== process.pid && nativeIo?.idleThread?.() !== 0) os.setPriority(tid, data.lane === 'list' ? 5 : 10);
} catch {
  // not Linux, or not allowed: run at normal priority
}
const port = parentPort;

// Fault injection for tests of crash recovery; never set in production wiring.
const faults = data.faults;
// SCAN_ROOTS, resolved: every request's root is checked against them here, in the thread that
// does the reading, whatever the main thread checked before.
const roots = data.roots ?? [];

const state: AnalyzerState = { buffer: sampleBuffer(SAMPLE_CHUNK), transcripts: new TranscriptReader() };

const reader: BatchReader = {
  io: nativeIo,
  records: new HeaderRecords(),
  before: faults
    ? (file) => {
        if (faults.crashOn && file.rel.endsWith(faults.crashOn)) process.exit(70);
        if (faults.hangOn && file.rel.endsWith(faults.hangOn.suffix)) fs.readFileSync(faults.hangOn.fifo);
      }
    : undefined,
};

/** This thread's connection to the service's database, opened on first use (row-writer.ts). */
let writer: SqliteRowWriter | null = null;
function writerFor(db: string): SqliteRowWriter {
  if (writer?.file !== db) {
    writer?.close();
    writer = new SqliteRowWriter(db, { pageLimit: faults?.dbPageLimit, inTurn: faults?.inTurn }, data.writing && new Int32Array(data.writing));
  }
  return writer;
}

/** What the main thread needs of rows this thread recorded (read, or copied): counts, and their part of the summary. */
function writtenBatch(analysis: Analysis, rows: RecordedFile[], copied: SummaryRow[]): WrittenBatch {
  const summary = new ScanAggregator(analysis);
  summary.add(rows);
  const read = tally(rows);
  if (!copied.length) return { ...read, reused: 0, summary: summary.toState() };
  summary.add(copied);
  const kept = tally(copied);
  return { ...read, rows: read.rows + kept.rows, failed: read.failed + kept.failed, reused: kept.rows, summary: summary.toState() };
}

/**
 * A rescan's batch: fingerprints its files, copies the rows of those its reference scan saw as
 * they are now (one lookup and one copy for the batch), and gives back the files left to read. A
 * file the copy missed (the reference deleted meanwhile) is read.
 */
function copyUnchanged(root: string, target: RowTarget, items: ScanItem[], copied: SummaryRow[]): ScanItem[] {
  const ref = target.reuse!;
  // The walk sent plain folders: this thread takes the fingerprints (walk.ts fingerprintFiles).
  const files = eachFile(items);
  fingerprintFiles(root, files);
  const printed = files.filter((f) => f.fp);
  if (!printed.length) return items;
  const w = writerFor(target.db);
  const prints = w.fingerprints(
    ref.from,
    printed.map((f) => f.rel),
  );
  const same: { path: string; rid: number }[] = [];
  for (const f of printed) {
    const rec = prints.get(f.rel);
    if (rec && unchanged(f.fp!, rec)) same.push({ path: f.rel, rid: rec.rid });
  }
  if (!same.length) return items;
  for (const row of w.copy(target.task, ref.from, same, ref.headerOnly, new Int32Array(target.gate))) copied.push(row);
  const done = new Set(copied.map((r) => r.path));
  return files.filter((f) => !done.has(f.rel));
}

const send = (msg: WorkerResponse): void => port.postMessage(msg);

port.on('message', (msg: WorkerRequest) => {
  const check = verifyRoot(msg.root, roots);
  if (!check.ok) {
    send({ type: 'refused', id: msg.id, code: check.code, detail: check.detail });
    return;
  }
  switch (msg.type) {
    case 'batch': {
      // Chapter tables are cached within a batch only: a rescan must see the tables as they are now.
      state.transcripts.reset();
      const target = msg.write;
      if (!target) {
        send({ type: 'result', id: msg.id, results: readBatch(msg.root, msg.files, msg.analysis, state, reader) });
        return;
      }
      const copied: SummaryRow[] = [];
      let rows: RecordedFile[] = [];
      try {
        const left = target.reuse ? copyUnchanged(msg.root, target, msg.files, copied) : msg.files;
        rows = left.length ? readBatch(msg.root, left, msg.analysis, state, reader) : [];
        if (rows.length) writerFor(target.db).write(target.task, rows, new Int32Array(target.gate));
      } catch (err) {
        send({ type: 'write-failed', id: msg.id, storageFull: err instanceof StorageFullError, message: (err as Error).message });
        return;
      }
      send({ type: 'written', id: msg.id, batch: writtenBatch(msg.analysis, rows, copied) });
      return;
    }
    case 'walk': {
      if (!msg.fingerprints) {
        // Packed by folder: names stay bytes, one buffer per message (folder-files.ts).
        for (const files of walkPacked(msg.root, msg.scope, { max: msg.batch })) send({ type: 'found', id: msg.id, files });
        send({ type: 'walked', id: msg.id });
        return;
      }
      let files: DiscoveredFile[] = [];
      for (const f of walkWavFiles(msg.root, msg.scope, { fingerprints: true })) {
        files.push(f);
        if (files.length >= msg.batch) {
          send({ type: 'found', id: msg.id, files });
          files = [];
        }
      }
      if (files.length) send({ type: 'found', id: msg.id, files });
      send({ type: 'walked', id: msg.id });
      return;
    }
    case 'plan':
      send({ type: 'plan', id: msg.id, parts: folderPlan(msg.root, msg.subsets) });
      return;
    case 'count': {
      let files = 0;
      for (const scope of msg.scopes) for (const _ of walkWavFiles(msg.root, scope)) files++;
      send({ type: 'count', id: msg.id, files });
      return;
    }
    case 'speakers':
      send({ type: 'speakers', id: msg.id, speakers: readSpeakerInfo(msg.root) });
      return;
  }
});
