import type { PartSpec } from '../scan/plan.ts';
import { NO_PROGRESS, scanPart, type PartDeps, type PartProgress } from '../scan/scan-part.ts';
import { ScanAggregator } from '../scan/summary.ts';
import type { PartRunner, PartTask, TaskProgress } from './interfaces.ts';

/** Runs a task's parts in this process, one after another, on the shared worker pool. */
export class LocalPartRunner implements PartRunner {
  constructor(private readonly deps: PartDeps) {}

  async run(task: PartTask, parts: PartSpec[], signal: AbortSignal, onProgress: (p: TaskProgress) => void): Promise<ScanAggregator> {
    const total = new ScanAggregator(task.analysis);
    const finished: PartProgress = { ...NO_PROGRESS, walked: true };
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      let seen: PartProgress = { ...NO_PROGRESS };
      const agg = await scanPart({ ...task, part }, this.deps, signal, (p) => {
        seen = p;
        onProgress({
          found: finished.found + p.found,
          // The task's walk is over when the last part's is.
          walked: last && p.walked,
          done: finished.done + p.done,
          failed: finished.failed + p.failed,
          reused: finished.reused + p.reused,
          bytes: finished.bytes + p.bytes,
        });
      });
      finished.found += seen.found;
      finished.done += seen.done;
      finished.failed += seen.failed;
      finished.reused += seen.reused;
      finished.bytes += seen.bytes;
      total.merge(agg.toState());
    }
    return total;
  }
}
