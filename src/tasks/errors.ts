/** Typed runner errors; `src/errors.ts` maps them to HTTP responses in one place. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly retryAfterS: number) {
    super('The scan queue is full');
  }
}

export class TaskNotFoundError extends Error {
  override readonly name = 'TaskNotFoundError';
  constructor(readonly taskId: string) {
    super(`Task not found: ${taskId}`);
  }
}

export class TaskStateError extends Error {
  override readonly name = 'TaskStateError';
  constructor(
    readonly taskId: string,
    readonly active: boolean,
  ) {
    super(active ? `Task ${taskId} is still active; cancel it first` : `Task ${taskId} has already finished`);
  }
}

export class ShuttingDownError extends Error {
  override readonly name = 'ShuttingDownError';
  constructor() {
    super('The server is shutting down');
  }
}

/** The queue's engine (Redis, in a cluster) cannot be reached; worth retrying later. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/** The task's cancel flag was found set while it ran (a cancel message may have been missed). */
export class CancelRequestedError extends Error {
  override readonly name = 'CancelRequestedError';
  constructor(readonly taskId: string) {
    super(`Task ${taskId} was cancelled`);
  }
}
