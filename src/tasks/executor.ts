import { ScanFailure } from '../domain/scan-failure.ts';
import { isTerminal, type ReuseReference, type TaskSnapshot } from '../domain/task.ts';
import type { SpeakerInfo } from '../scan/libritts.ts';
import type { PartSpec } from '../scan/plan.ts';
import { asScanFailure } from '../scan/scan-part.ts';
import { StoreUnavailableError, type EventLog, type ResultStore, type TaskRecord } from '../store/types.ts';
import { CancelRequestedError } from './errors.ts';
import type { EventPublisher, PartRunner, TaskProgress } from './interfaces.ts';
import { TaskEmitter } from './task-emitter.ts';

/** Why a running task was stopped by a shutdown: it stays `running` in the store and resumes. */
export const SHUTDOWN = Symbol('shutdown');
/** Why a cluster worker stopped coordinating a task another worker now coordinates: it runs on there. */
export const HANDED_OVER = Symbol('handed-over');

/** Abort reasons that interrupt a task without ending it. */
const isInterruption = (reason: unknown): boolean => reason === SHUTDOWN || reason === HANDED_OVER;

export interface ExecutorDeps {
  events: EventLog;
  results: ResultStore;
  publisher: EventPublisher;
  parts: PartRunner;
  /** Splits a task into parts: one part in a single process, folders in a cluster. */
  plan(task: { root: string; subsets: string[] | null }, signal: AbortSignal): Promise<PartSpec[]>;
  /** Reads the root's speaker table (in a worker thread, under the scan's file rules). */
  speakers(root: string, signal: AbortSignal): Promise<SpeakerInfo[]>;
  /** The earlier scan whose unchanged files' rows the task copies (tasks/reference.ts); none when absent. */
  reference?: ((record: TaskRecord) => Promise<ReuseReference | null>) | undefined;
  progressIntervalMs: number;
  onInternalError?: ((err: unknown, taskId: string) => void) | undefined;
  /** Told of every task this executor ends (metrics). */
  onEnded?: ((final: TaskSnapshot) => void) | undefined;
}

/** How a run ended for the caller: the task ended (in any terminal status), or a shutdown interrupted it. */
export type RunOutcome = 'ended' | 'interrupted';

const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * Runs one task's scan from wherever it stands to its end: plans its parts, runs them through
 * the PartRunner while turning their progress into coalesced events, then summarizes. Every
 * event is persisted before it is published (task-emitter.ts). The same code runs in the
 * single process and on a cluster worker; only the PartRunner and the plan differ.
 */
export class TaskExecutor {
  constructor(private readonly deps: ExecutorDeps) {}

  /** A TaskEmitter for a task, for those (queues) that end tasks that never ran. */
  emitter(record: { snapshot: TaskSnapshot; last_event_id: number }): TaskEmitter {
    const { events, publisher, progressIntervalMs, onInternalError } = this.deps;
    return new TaskEmitter({ events, publisher, progressIntervalMs, onError: onInternalError }, { ...record.snapshot }, record.last_event_id);
  }

  /**
   * Runs `record` until it ends. `signal` aborting with SHUTDOWN leaves it running in the store
   * (its counters checkpointed) for the next start; any other abort cancels it.
   */
  async run(record: TaskRecord, signal: AbortSignal): Promise<RunOutcome> {
    if (isTerminal(record.snapshot.status)) return 'ended';
    const em = this.emitter(record);
    const end = async (...args: Parameters<TaskEmitter['finish']>): Promise<RunOutcome> => {
      const event = await em.finish(...args);
      if (event) this.deps.onEnded?.(event.snapshot);
      return 'ended';
    };
    if (record.cancel_requested) return end('cancelled');
    const resume = record.snapshot.status === 'running' || record.snapshot.files_done > 0;
    const s = em.snap;
    s.files_per_s = null;
    s.eta_s = null;
    s.files_total = null; // unknown again until the walk ends (a resumed task's is from its last run)
    if ((await em.start()) === null) return 'ended'; // another process ended it meanwhile
    const startDone = s.files_done;
    const started = performance.now();
    // A resumed task's parts count the files it recorded before from 0 again, as the walk finds
    // them: its counters stay where the last run left them until the count passes them (the
    // rows recorded only grow).
    const floor = { done: s.files_done, failed: s.files_failed, reused: s.files_reused, bytes: s.bytes_done };
    const atLeastFloor = (p: TaskProgress): TaskProgress =>
      resume
        ? { ...p, done: Math.max(p.done, floor.done), failed: Math.max(p.failed, floor.failed), reused: Math.max(p.reused, floor.reused), bytes: Math.max(p.bytes, floor.bytes) }
        : p;
    let last: TaskProgress = { found: 0, walked: false, ...floor };
    const report = (p: TaskProgress) => {
      const elapsed = (performance.now() - started) / 1000;
      const rate = elapsed > 0 ? (p.done - startDone) / elapsed : 0;
      s.files_per_s = rate > 0 ? round1(rate) : null;
      const reused = p.reused ? ` (${p.reused} unchanged, reused)` : '';
      if (!p.walked) {
        s.eta_s = null;
        return `Discovering files: ${p.found} found, ${p.done} scanned${reused}`;
      }
      s.eta_s = rate > 0 ? round1((p.found - p.done) / rate) : null;
      return `Processing file ${p.done}/${p.found}${reused}`;
    };
    try {
      const parts = await this.deps.plan({ root: record.root, subsets: record.snapshot.subsets }, signal);
      const reference = (await this.deps.reference?.(record)) ?? null;
      em.phase('discovering', last, reference ? 'Discovering files: 0 found (reusing unchanged files of an earlier scan)' : 'Discovering files: 0 found');
      const agg = await this.deps.parts.run({ taskId: s.task_id, root: record.root, analysis: s.analysis, resume, reference }, parts, signal, (counted) => {
        const p = atLeastFloor(counted);
        const entering = p.walked && !last.walked;
        last = p;
        if (signal.aborted) return;
        if (entering) void em.phase('processing', p, report(p));
        else em.progress(p, report(p));
      });
      if (signal.aborted) throw signal.reason;
      await em.phase('finalizing', last, 'Summarizing speakers');
      const info = await this.deps.speakers(record.root, signal).catch((err: unknown) => {
        throw asScanFailure(err);
      });
      await this.deps.results.replaceSpeakers(s.task_id, agg.speakers(new Map(info.map((i) => [i.speaker_id, i])))).catch((err: unknown) => {
        throw asScanFailure(err);
      });
      s.summary = agg.summary(last.reused);
      // A resumed task's counters were held at least where its last run left them (atLeastFloor);
      // rows of files removed meanwhile are gone now (scan-part.ts dropVanished): count what is stored.
      return await end('completed', resume ? { stored: await this.deps.results.resultCounts(s.task_id) } : {});
    } catch (err) {
      if (signal.aborted && isInterruption(signal.reason)) {
        await em.checkpoint(await this.deps.results.resultCounts(s.task_id).catch(() => undefined));
        return 'interrupted';
      }
      // Stopped part-way, by a cancel or a failure: what the store holds is what the task has.
      const stored = () => this.deps.results.resultCounts(s.task_id).catch(() => undefined);
      if (signal.aborted || err instanceof CancelRequestedError) {
        em.stop();
        return await end('cancelled', { stored: await stored() });
      }
      if (err instanceof StoreUnavailableError) {
        // Nothing can be recorded now; the task is picked up again once the store is back.
        em.stop();
        throw err;
      }
      const failure = asScanFailure(err);
      if (failure instanceof ScanFailure) return await end('failed', { error: { code: failure.code, detail: failure.detail }, stored: await stored() });
      this.deps.onInternalError?.(err, s.task_id);
      return await end('failed', { error: { code: 'INTERNAL_ERROR', detail: 'The scan failed unexpectedly; see the server log' }, stored: await stored() });
    }
  }
}
