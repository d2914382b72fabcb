import type { TaskErrorCode } from './task.ts';

/** A scan that cannot go on; `code` becomes the task's `error.code`. */
export class ScanFailure extends Error {
  override readonly name = 'ScanFailure';
  constructor(
    readonly code: TaskErrorCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}
