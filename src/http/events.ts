import { Hono } from 'hono';
import { AppError } from '../errors.ts';
import { ShuttingDownError } from '../tasks/errors.ts';
import type { TaskEvents, TaskReader } from '../tasks/interfaces.ts';
import { isTerminal, type TaskEvent, type TaskSnapshot } from '../domain/task.ts';
import type { StoredTask } from '../store/types.ts';
import type { AppDeps } from './deps.ts';
import { SSEChannel } from './sse-channel.ts';
import { describe, errors, other } from './openapi.ts';
import { EventsQuerySchema, TaskIdParamSchema } from './schemas.ts';
import { findTask } from './task-lookup.ts';
import { validate } from './validate.ts';

const RETRY_MS = 2000;

function lastEventIdOf(header: string | undefined, query: number | undefined): number | undefined {
  if (header && /^\d{1,15}$/.test(header.trim())) return Number(header.trim());
  return query;
}

const encoder = new TextEncoder();

/** One SSE frame. The JSON of a snapshot has no newline, so it is one `data:` line. */
const frame = (event: string, id: number, snapshot: TaskSnapshot): Uint8Array => encoder.encode(`event: ${event}\ndata: ${JSON.stringify(snapshot)}\nid: ${id}\n\n`);

// An event fans out to every client of its task: encode it once, not once per client.
const frames = new WeakMap<TaskEvent, Uint8Array>();
function eventFrame(e: TaskEvent): Uint8Array {
  let bytes = frames.get(e);
  if (!bytes) frames.set(e, (bytes = frame(e.type, e.id, e.snapshot)));
  return bytes;
}

const send = (s: SSEChannel, event: string, id: number, snapshot: TaskSnapshot) => s.write(frame(event, id, snapshot));

/** Counts open streams overall and per task, so that a flood of clients gets 503, not an OOM. */
class StreamSlots {
  private open = 0;
  private readonly perTask = new Map<string, number>();
  constructor(
    private readonly max: number,
    private readonly maxPerTask: number,
  ) {}

  /** Takes a slot, or throws the contract's 503; returns the function that gives it back. */
  take(taskId: string): () => void {
    const forTask = this.perTask.get(taskId) ?? 0;
    if (this.open >= this.max || forTask >= this.maxPerTask) {
      const scope = this.open >= this.max ? 'the server' : 'this task';
      throw new AppError(503, 'TOO_MANY_STREAMS', `Too many event streams open on ${scope}; poll scan-status or retry later`, [], { 'Retry-After': '5' });
    }
    this.open++;
    this.perTask.set(taskId, forTask + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const n = (this.perTask.get(taskId) ?? 1) - 1;
      if (n > 0) this.perTask.set(taskId, n);
      else this.perTask.delete(taskId);
    };
  }
}

/**
 * The terminal event of a task that has ended: the one stored, or, when it cannot be read back
 * (a store that refused it, a lost row), one made of the final snapshot under the task's last
 * event id. A stream must never wait for an end that has already passed: it would ping forever.
 */
async function endOf(reader: TaskReader, task: StoredTask): Promise<TaskEvent | null> {
  const status = task.snapshot.status;
  if (!isTerminal(status)) return null;
  return (await reader.terminalEvent(task.snapshot.task_id)) ?? { id: task.last_event_id, type: status, snapshot: task.snapshot };
}

/** Streams one task to one client until its terminal event, a disconnect, or a shutdown. */
async function streamTask(s: SSEChannel, reader: TaskReader, events: TaskEvents, id: string, pingMs: number): Promise<void> {
  s.write(`retry: ${RETRY_MS}\n\n`);
  const pending: TaskEvent[] = [];
  let wake: (() => void) | null = null;
  let closing = false;
  const unsubscribe = events.subscribe(id, (e) => {
    pending.push(e);
    wake?.();
  });
  const onClosing = () => {
    closing = true;
    wake?.();
  };
  const offClosing = events.onClosing(onClosing);
  s.onAbort(() => {
    unsubscribe();
    wake?.();
  });
  const ping = setInterval(() => s.write(': ping\n\n'), pingMs);
  try {
    // Read the snapshot after subscribing, so no event can fall between the two.
    const current = await reader.get(id);
    if (!current) return;
    const ended = await endOf(reader, current);
    if (ended) {
      send(s, 'status', ended.id - 1, ended.snapshot);
      s.write(eventFrame(ended));
      return;
    }
    let sent = current.last_event_id;
    send(s, 'status', sent, current.snapshot);
    while (!s.closed && !closing) {
      if (pending.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      // In id order, each once: across API processes an event can come twice (pub/sub and the
      // catch-up from the store) or after a later one (redis-events.ts).
      const batch = pending
        .splice(0)
        .filter((e) => e.id > sent)
        .sort((a, b) => a.id - b.id)
        .filter((e, i, all) => i === 0 || e.id !== all[i - 1]!.id);
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i]!;
        const next = batch[i + 1];
        // A client that falls behind skips progress events: a newer one of the same phase
        // follows, or it is still busy reading; phase changes and the end always go out.
        const sameAsNext = next?.type === 'progress' && next.snapshot.phase === e.snapshot.phase && next.snapshot.status === e.snapshot.status;
        const clientBehind = e.type === 'progress' && !next && s.slow;
        if (e.type === 'progress' && (sameAsNext || clientBehind)) continue;
        s.write(eventFrame(e));
        sent = e.id;
        if (e.type !== 'progress') return;
      }
    }
  } finally {
    clearInterval(ping);
    unsubscribe();
    offClosing();
    s.close();
  }
}

/**
 * Server-Sent Events for one task (API.md): `retry`, a `status` snapshot, coalesced `progress`,
 * exactly one terminal event, then close. A shutdown ends open streams (clients reconnect).
 */
export function eventRoutes(deps: AppDeps): Hono {
  const { reader, events, queue, config, metrics } = deps;
  const slots = new StreamSlots(config.MAX_SSE_CLIENTS, config.MAX_SSE_CLIENTS_PER_TASK);
  const app = new Hono();

  app.get(
    '/scan-events/:task_id',
    describe({
      tag: 'scans',
      auth: 'bearer-or-query',
      summary: 'Follow a task as Server-Sent Events',
      description: [
        'Starts with `retry: 2000`, then an event `status` (the current snapshot), then `progress` events as work advances (at most ~10/s per task, plus one at',
        'every phase change), and exactly one terminal event, `completed`, `failed` or `cancelled`, after which the stream closes. The `data` of every event',
        'is a TaskSnapshot (one line of JSON). Every event has an `id` that increases within the task; reconnect with `Last-Event-ID` (header) or',
        '`?last_event_id=` to get what was missed. No event is ever named `error`. A `: ping` comment comes at least every 15 s (SSE_PING_MS).',
      ].join(' '),
      responses: {
        200: other(
          'The event stream (`HEAD` answers the headers only)',
          {
            'text/event-stream': {
              schema: { type: 'string', description: 'event: status | progress | completed | failed | cancelled; data: TaskSnapshot JSON; id: integer' },
              example: 'retry: 2000\n\nevent: status\ndata: {"task_id":"…","status":"running",…}\nid: 4\n\n',
            },
          },
          { 'X-Accel-Buffering': { description: '`no`: proxies must not buffer the stream', schema: { type: 'string' } } },
        ),
        204: other('`Last-Event-ID` is at or past the terminal event: EventSource stops reconnecting for good'),
        ...errors(400, 404),
      },
    }),
    validate('param', TaskIdParamSchema),
    validate('query', EventsQuerySchema),
    async (c) => {
      const task = await findTask(reader, c.req.param('task_id'));
      const id = task.snapshot.task_id;
      const lastId = lastEventIdOf(c.req.header('last-event-id'), c.req.valid('query').last_event_id);
      const ended = await endOf(reader, task);
      // Past the end: 204 tells EventSource to stop reconnecting for good.
      if (ended && lastId !== undefined && lastId >= ended.id) return c.body(null, 204);
      if (queue.closing) throw new ShuttingDownError();
      const headers = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' };
      // HEAD: the headers a GET would have, and no stream (no slot, no listener, no timer).
      if (c.req.method === 'HEAD') return c.body(null, 200, headers);
      const release = slots.take(id);
      metrics.sseOpen.inc();
      const channel = new SSEChannel();
      void streamTask(channel, reader, events, id, config.SSE_PING_MS)
        .catch(() => channel.close()) // never an `error` event: the stream just ends and the client reconnects
        .finally(() => {
          release();
          metrics.sseOpen.dec();
        });
      return c.body(channel.body, 200, headers);
    },
  );

  return app;
}
