import { FolderPacker } from '../../src/scan/folder-files.ts';
import type { NativeIo } from '../../src/scan/native-io.ts';
import type { FolderFiles, WalkScope } from '../../src/scan/types.ts';
import { walkWavFolders } from '../../src/scan/walk.ts';

/**
 * A tree's WAV files packed as a scan's walking thread sends them (scan/worker.ts): at most `max`
 * files a folder item, one message's worth (`message` files) at a time, all messages' items in order.
 */
export function packedFolders(root: string, opts: { scope?: WalkScope; max?: number; message?: number; io?: NativeIo | null } = {}): FolderFiles[] {
  const packer = new FolderPacker(opts.max ?? 256);
  const out: FolderFiles[] = [];
  for (const { dir, files } of walkWavFolders(root, opts.scope, { io: opts.io })) {
    for (const f of files) {
      packer.add(dir, f.name, f.link);
      if (packer.size >= (opts.message ?? 256)) out.push(...packer.take());
    }
  }
  if (packer.size) out.push(...packer.take());
  return out;
}
