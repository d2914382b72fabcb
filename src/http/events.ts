import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { TaskEvent, TaskSnapshot } from '../tasks/types.ts';
import { isTerminal } from '../tasks/types.ts';
import type { AppDeps } from './deps.ts';
import { EventsQuerySchema } from './schemas.ts';
import { findTask } from './task-lookup.ts';
import { validate } from './validate.ts';

const RETRY_MS = 2000;

function lastEventIdOf(header: string | undefined, query: number | undefined): number | undefined {
  if (header && /^\d{1,15}$/.test(header.trim())) return Number(header.trim());
  return query;
}

const send = (s: SSEStreamingApi, event: string, id: number, snapshot: TaskSnapshot) =>
  s.writeSSE({ event, id: String(id), data: JSON.stringify(snapshot) });

/**
 * Server-Sent Events for one task (API.md): `retry`, a `status` snapshot, coalesced `progress`,
 * exactly one terminal event, then close. A slow client gets only the newest progress it missed.
 */
export function eventRoutes(deps: AppDeps): Hono {
  const { runner, store, config } = deps;
  const app = new Hono();

  app.get('/scan-events/:task_id', validate('query', EventsQuerySchema), async (c) => {
    const task = await findTask(runner, c.req.param('task_id'));
    const id = task.snapshot.task_id;
    const lastId = lastEventIdOf(c.req.header('last-event-id'), c.req.valid('query').last_event_id);
    const ended = isTerminal(task.snapshot.status) ? await store.terminalEvent(id) : null;
    // Past the end: 204 tells EventSource to stop reconnecting for good.
    if (ended && lastId !== undefined && lastId >= ended.id) return c.body(null, 204);
    c.header('X-Accel-Buffering', 'no');

    return streamSSE(c, async (s) => {
      await s.write(`retry: ${RETRY_MS}\n\n`);
      if (ended) {
        await send(s, 'status', ended.id - 1, ended.snapshot);
        await send(s, ended.type, ended.id, ended.snapshot);
        return;
      }

      const pending: TaskEvent[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = runner.subscribe(id, (e) => {
        pending.push(e);
        wake?.();
      });
      s.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      const ping = setInterval(() => void s.write(': ping\n\n'), config.SSE_PING_MS);
      try {
        // Read the snapshot after subscribing, so no event can fall between the two.
        const current = await runner.get(id);
        if (!current) return;
        if (isTerminal(current.snapshot.status)) {
          const terminal = await store.terminalEvent(id);
          if (terminal) {
            await send(s, 'status', terminal.id - 1, terminal.snapshot);
            await send(s, terminal.type, terminal.id, terminal.snapshot);
            return;
          }
        }
        let sent = current.last_event_id;
        await send(s, 'status', sent, current.snapshot);
        while (!s.aborted) {
          if (pending.length === 0) await new Promise<void>((r) => (wake = r));
          wake = null;
          const batch = pending.splice(0).filter((e) => e.id > sent);
          for (let i = 0; i < batch.length; i++) {
            const e = batch[i]!;
            const next = batch[i + 1];
            // Skip a progress event only when a newer one of the same status and phase follows.
            if (e.type === 'progress' && next?.type === 'progress' && next.snapshot.phase === e.snapshot.phase && next.snapshot.status === e.snapshot.status) continue;
            await send(s, e.type, e.id, e.snapshot);
            sent = e.id;
            if (e.type !== 'progress') return;
          }
        }
      } finally {
        clearInterval(ping);
        unsubscribe();
      }
    });
  });

  return app;
}
