// Builds the WebAssembly kernels from their text sources with wabt (pinned in package.json):
// src/scan/kernels/*.wat → *.wasm, committed next to them. `npm run build:wasm`; a test checks that
// the committed binaries are what their sources build to.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import initWabt from 'wabt';

export const KERNEL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'scan', 'kernels');

/** The binary a `.wat` source builds to (no names section, so it depends only on the source). */
export async function buildWat(file: string): Promise<Uint8Array> {
  const wabt = await initWabt();
  const mod = wabt.parseWat(path.basename(file), fs.readFileSync(file, 'utf8'), { simd: true });
  try {
    mod.validate();
    return mod.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    mod.destroy();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const name of fs.readdirSync(KERNEL_DIR).filter((f) => f.endsWith('.wat'))) {
    const out = path.join(KERNEL_DIR, name.replace(/\.wat$/, '.wasm'));
    const bin = await buildWat(path.join(KERNEL_DIR, name));
    fs.writeFileSync(out, bin);
    console.log(`${path.relative(process.cwd(), out)}: ${bin.length} bytes`);
  }
}
