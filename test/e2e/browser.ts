import { execSync } from 'node:child_process';
import fs from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { tempDir } from '../helpers/libritts-tree.ts';

export const CHROMIUM = '/usr/bin/chromium';
const INSTALL = 'apt-get update && apt-get install -y chromium';

/** Makes sure Debian's Chromium is there: installs it when running as root, else fails naming the command. */
export function ensureChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  if (process.getuid?.() === 0) {
    execSync(INSTALL, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
    if (fs.existsSync(CHROMIUM)) return;
  }
  throw new Error(`Chromium is missing at ${CHROMIUM}; the browser tests need it. Install it with: sudo ${INSTALL}`);
}

/** Headless Debian Chromium with the flags this closed network needs and a fresh profile. */
export async function launchBrowser(): Promise<BrowserContext> {
  ensureChromium();
  return chromium.launchPersistentContext(tempDir('vl-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
