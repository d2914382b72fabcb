import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { isTerminal, TaskSnapshotSchema, type TaskEvent } from '../domain/task.ts';
import type { EventPublisher, TaskEvents, TaskReader } from '../tasks/interfaces.ts';

/** How often a task with listeners here is checked in PostgreSQL, in case a live message was lost. */
const CATCH_UP_MS = 1000;

const parse = (raw: string): TaskEvent | null => {
  try {
    const e = JSON.parse(raw) as TaskEvent;
    const snap = TaskSnapshotSchema.safeParse(e.snapshot);
    const typeOk = e.type === 'progress' || isTerminal(e.type);
    return snap.success && typeOk && Number.isSafeInteger(e.id) ? { id: e.id, type: e.type, snapshot: snap.data } : null;
  } catch {
    return null;
  }
};

interface Watch {
  timer: NodeJS.Timeout;
  /** The newest event id delivered here for the task. */
  lastId: number;
}

/**
 * A cluster's live events. The coordinating worker persists each event in PostgreSQL and then
 * publishes it on one Redis channel; every API process subscribes once and fans out to its SSE
 * streams through a local EventEmitter. Redis pub/sub is at-most-once, so while a task has
 * listeners here it is also checked in PostgreSQL every second: a lost message (a Redis blip, an
 * outage) is made up from the event log, and no stream misses its task's end.
 */
export class RedisEvents implements TaskEvents, EventPublisher {
  private readonly bus = new EventEmitter();
  private readonly closing = new EventEmitter();
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly pub: Redis,
    sub: Redis,
    private readonly channel: string,
    private readonly reader: TaskReader,
  ) {
    this.bus.setMaxListeners(0);
    this.closing.setMaxListeners(0);
    sub.on('message', (ch: string, raw: string) => {
      if (ch !== channel) return;
      const e = parse(raw);
      if (e) this.deliver(e);
    });
    // Queued while Redis is away; ioredis subscribes again after every reconnect.
    void sub.subscribe(channel).catch(() => {});
  }

  publish(event: TaskEvent): void {
    // Best effort: the event is in PostgreSQL already, and listeners catch up from there.
    this.pub.publish(this.channel, JSON.stringify(event)).catch(() => {});
  }

  subscribe(taskId: string, listener: (e: TaskEvent) => void): () => void {
    this.bus.on(taskId, listener);
    if (!this.watches.has(taskId)) {
      const timer = setInterval(() => void this.catchUp(taskId), CATCH_UP_MS);
      timer.unref();
      this.watches.set(taskId, { timer, lastId: 0 });
    }
    return () => {
      this.bus.off(taskId, listener);
      if (this.bus.listenerCount(taskId) === 0) {
        clearInterval(this.watches.get(taskId)?.timer);
        this.watches.delete(taskId);
      }
    };
  }

  onClosing(listener: () => void): () => void {
    this.closing.once('closing', listener);
    return () => this.closing.off('closing', listener);
  }

  listenerCount(taskId?: string): number {
    if (taskId) return this.bus.listenerCount(taskId);
    return this.bus.eventNames().reduce((n, name) => n + this.bus.listenerCount(name), 0);
  }

  /** Ends every stream (the process is shutting down) and stops checking. */
  close(): void {
    this.closing.emit('closing');
    for (const w of this.watches.values()) clearInterval(w.timer);
    this.watches.clear();
  }

  private deliver(e: TaskEvent): void {
    const id = e.snapshot.task_id;
    const w = this.watches.get(id);
    if (!w) return;
    if (e.id > w.lastId) w.lastId = e.id;
    this.bus.emit(id, e);
  }

  /** Makes up, from PostgreSQL, what live messages did not bring. */
  private async catchUp(taskId: string): Promise<void> {
    const w = this.watches.get(taskId);
    if (!w) return;
    try {
      const now = await this.reader.get(taskId);
      if (!now || now.last_event_id <= w.lastId) return;
      if (isTerminal(now.snapshot.status)) {
        const end = await this.reader.terminalEvent(taskId);
        if (end) this.deliver(end);
      } else {
        this.deliver({ id: now.last_event_id, type: 'progress', snapshot: now.snapshot });
      }
    } catch {
      // PostgreSQL away too: the next tick tries again
    }
  }
}
