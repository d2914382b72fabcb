import { LineBuffer } from './text.ts';
import type { ExportFormat } from './types.ts';

/** Every result row (failed ones too), one JSON object per line: `scan-results?format=jsonl`. */
export const jsonl: ExportFormat = {
  name: 'jsonl',
  contentType: 'application/x-ndjson; charset=utf-8',
  filename: (id) => `scan-${id}.jsonl`,
  async write(ctx, out) {
    const buf = new LineBuffer(out);
    for await (const r of ctx.rows()) {
      if (out.aborted) return;
      await buf.add(JSON.stringify(r) + '\n');
    }
    await buf.flush();
  },
};
