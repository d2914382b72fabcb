import { EventEmitter } from 'node:events';
import { isTerminal, type TaskEvent } from '../domain/task.ts';
import type { StoredTask } from '../store/types.ts';
import type { EventPublisher, TaskEvents } from './interfaces.ts';

/**
 * The single process's event bus: an EventEmitter per task id. It also remembers the latest
 * event of every task still moving (and of one whose end the store refused), so that reads of
 * live tasks need no database round trip and a refused end is still served.
 */
export class LocalEvents implements TaskEvents, EventPublisher {
  private readonly bus = new EventEmitter();
  private readonly closing = new EventEmitter();
  private readonly live = new Map<string, TaskEvent>();
  private readonly any = new Set<(e: TaskEvent) => void>();

  constructor() {
    // One listener per open event stream and per waiting request.
    this.bus.setMaxListeners(0);
    this.closing.setMaxListeners(0);
  }

  publish(event: TaskEvent, persisted: boolean): void {
    const id = event.snapshot.task_id;
    // An end the store has kept needs no copy here; one it refused stays until restart.
    if (isTerminal(event.snapshot.status) && persisted) this.live.delete(id);
    else this.live.set(id, event);
    this.bus.emit(id, event);
    for (const fn of this.any) fn(event);
  }

  /** Listens to every task's events (logs, benchmarks); returns the function that stops. */
  onAny(listener: (e: TaskEvent) => void): () => void {
    this.any.add(listener);
    return () => this.any.delete(listener);
  }

  subscribe(taskId: string, listener: (e: TaskEvent) => void): () => void {
    this.bus.on(taskId, listener);
    return () => this.bus.off(taskId, listener);
  }

  onClosing(listener: () => void): () => void {
    this.closing.once('closing', listener);
    return () => this.closing.off('closing', listener);
  }

  listenerCount(taskId?: string): number {
    if (taskId) return this.bus.listenerCount(taskId);
    return this.bus.eventNames().reduce((n, name) => n + this.bus.listenerCount(name), 0);
  }

  /** The latest state of a task that is moving in this process, if it is one. */
  latest(taskId: string): StoredTask | null {
    const e = this.live.get(taskId);
    return e ? { snapshot: { ...e.snapshot }, last_event_id: e.id } : null;
  }

  /** The terminal event of a task whose end the store refused. */
  unpersistedEnd(taskId: string): TaskEvent | null {
    const e = this.live.get(taskId);
    return e && isTerminal(e.snapshot.status) ? e : null;
  }

  /** Forgets a deleted task: an end the store refused would otherwise still answer for it. */
  forget(taskId: string): void {
    this.live.delete(taskId);
  }

  /** Tells every stream the service is shutting down. */
  close(): void {
    this.closing.emit('closing');
  }
}
