import type { Analysis } from '../domain/file-result.ts';
import type { PartSpec } from '../scan/plan.ts';
import { scanPart, type PartDeps, type PartProgress } from '../scan/scan-part.ts';
import { ScanAggregator } from '../scan/summary.ts';
import type { PartRunner, TaskProgress } from './interfaces.ts';

/** Runs a task's parts in this process, one after another, on the shared worker pool. */
export class LocalPartRunner implements PartRunner {
  constructor(private readonly deps: PartDeps) {}

  async run(task: { taskId: string; root: string; analysis: Analysis; resume: boolean }, parts: PartSpec[], signal: AbortSignal, onProgress: (p: TaskProgress) => void): Promise<ScanAggregator> {
    const total = new ScanAggregator(task.analysis);
    const finished: PartProgress = { found: 0, walked: true, done: 0, failed: 0, bytes: 0 };
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      let seen: PartProgress = { found: 0, walked: false, done: 0, failed: 0, bytes: 0 };
      const agg = await scanPart({ ...task, part }, this.deps, signal, (p) => {
        seen = p;
        onProgress({
          found: finished.found + p.found,
          // The task's walk is over when the last part's is.
          walked: last && p.walked,
          done: finished.done + p.done,
          failed: finished.failed + p.failed,
          bytes: finished.bytes + p.bytes,
        });
      });
      finished.found += seen.found;
      finished.done += seen.done;
      finished.failed += seen.failed;
      finished.bytes += seen.bytes;
      total.merge(agg.toState());
    }
    return total;
  }
}
