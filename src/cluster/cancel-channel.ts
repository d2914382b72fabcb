import type { Redis } from 'ioredis';
import { z } from 'zod';
import { redisCall } from './redis.ts';

/**
 * `cancel`: the task is cancelled, stop everything of it. `stop-parts`: its parts are no longer
 * wanted. `part-done`: one of its parts has finished (its coordinator need not wait for its next poll).
 */
const MessageSchema = z.object({ task_id: z.string(), kind: z.enum(['cancel', 'stop-parts', 'part-done']) });
export type StopMessage = z.infer<typeof MessageSchema>;

/**
 * Control messages to every worker of the cluster over Redis pub/sub. BullMQ's own cancelJob only
 * reaches jobs of the process that calls it, and a task's parts run on many. Pub/sub is
 * at-most-once, so workers also find the cancel flag in PostgreSQL when they next look.
 */
export class StopChannel {
  constructor(
    private readonly pub: Redis,
    private readonly channel: string,
  ) {}

  send(msg: StopMessage): Promise<void> {
    return redisCall(async () => void (await this.pub.publish(this.channel, JSON.stringify(msg))));
  }

  /** Listens on a dedicated subscriber connection; returns the function that stops. */
  static async listen(sub: Redis, channel: string, onMessage: (msg: StopMessage) => void): Promise<() => Promise<void>> {
    const handler = (ch: string, raw: string) => {
      if (ch !== channel) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return;
      }
      const msg = MessageSchema.safeParse(parsed);
      if (msg.success) onMessage(msg.data);
    };
    sub.on('message', handler);
    await sub.subscribe(channel);
    return async () => {
      sub.off('message', handler);
      await sub.unsubscribe(channel).catch(() => {});
    };
  }
}
