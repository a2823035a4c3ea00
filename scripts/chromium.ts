import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (the binary behind the /usr/bin/chromium wrapper), headless,
 * for the browser tests and the web benchmark. The flags keep it off the
 * network: this machine and a port's network reach no Google service, and
 * without them Chromium opens background connections that are refused.
 */
export const CHROMIUM_PATH = '/usr/lib/chromium/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
