import type { NativeIo } from '../../src/scan/native-io.ts';
import type { FolderFiles, WalkScope } from '../../src/scan/types.ts';
import { walkPacked } from '../../src/scan/walk.ts';

/**
 * A tree's WAV files packed as a scan's walking thread sends them (walk.ts walkPacked), every
 * message's items in order: for trees whose every folder can be listed (an unlisted folder's item
 * is not a packed folder, and throws here).
 */
export const packedFolders = (root: string, opts: { scope?: WalkScope; max?: number; message?: number; io?: NativeIo | null } = {}): FolderFiles[] =>
  [...walkPacked(root, opts.scope, opts)].flat().map((item) => {
    if (!('names' in item)) throw new Error(`a folder of the tree could not be listed: ${item.rel} (${item.unlisted?.detail})`);
    return item;
  });
