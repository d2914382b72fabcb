export interface SSEFrame {
  event?: string;
  id?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

/** Parses SSE text into frames (blank-line separated), keeping comments and retry frames. */
export function parseFrames(text: string): SSEFrame[] {
  const frames: SSEFrame[] = [];
  for (const block of text.split('\n\n')) {
    if (!block) continue;
    const f: SSEFrame = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) f.comment = line.slice(1).trim();
      else {
        const i = line.indexOf(':');
        const key = line.slice(0, i) as keyof SSEFrame;
        const value = line.slice(i + 1).replace(/^ /, '');
        f[key] = f[key] === undefined ? value : `${f[key]}\n${value}`;
      }
    }
    frames.push(f);
  }
  return frames;
}

/** Reads frames until `until` says stop, then cancels the stream (a client going away). */
export async function readUntil(res: Response, until: (frames: SSEFrame[]) => boolean): Promise<SSEFrame[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
    const frames = parseFrames(complete);
    if (until(frames)) {
      await reader.cancel();
      return frames;
    }
  }
  return parseFrames(text);
}
