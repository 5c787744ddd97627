/**
 * A real browser on a client host of the stack: Debian's Chromium, headless,
 * started by Playwright (playwright-core, no browser download) through
 * chromium-netns.sh, so the browser's whole network is the client
 * namespace's while Playwright drives it over its pipe from the test process.
 *
 * The page is the softphone of page/ (JsSIP from npm, bundled here by
 * esbuild), served by Playwright's request routing under PAGE_ORIGIN: an
 * https origin, so a secure context (getUserMedia) and the Origin header a
 * real deployment's page would send. Flags: fake microphone (a beep) without
 * a permission prompt, the stack's throwaway certificate accepted, host names
 * mapped to the stack's addresses (no DNS here), host candidates with real
 * addresses (no mDNS names rtpengine cannot resolve), and no background
 * network traffic (this machine has no network).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { HOST_RESOLVER_RULES, PAGE_ORIGIN, WEBRTC_DIR } from './config.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** index.html and the bundled softphone. */
export async function buildPage(): Promise<{ html: string; js: string }> {
  const result = await build({
    entryPoints: [join(WEBRTC_DIR, 'page', 'phone.js')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  return { html: readFileSync(join(WEBRTC_DIR, 'page', 'index.html'), 'utf8'), js: result.outputFiles[0]!.text };
}

export interface BrowserHost {
  browser: Browser;
  /** Opens the softphone page in a fresh context (its own WebSocket, its own
   * user), served from PAGE_ORIGIN or, to see a foreign page refused, another origin. */
  openPhone(label: string, origin?: string): Promise<Phone>;
  close(): Promise<void>;
}

export interface Phone {
  label: string;
  context: BrowserContext;
  page: Page;
  /** Console lines and page errors, in order. */
  console: string[];
  /** Writes a screenshot, the console and the phone's own log to `dir`. */
  keep(dir: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchIn(ns: string): Promise<BrowserHost> {
  const page = await buildPage();
  const browser = await chromium.launch({
    executablePath: join(WEBRTC_DIR, 'chromium-netns.sh'),
    env: { ...process.env, KSR_NETNS: ns, KSR_CHROMIUM: CHROMIUM },
    headless: true,
    timeout: 20_000,
    args: [
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--ignore-certificate-errors',
      `--host-resolver-rules=${HOST_RESOLVER_RULES}`,
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
  return {
    browser,
    openPhone: async (label, origin = PAGE_ORIGIN) => {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, permissions: ['microphone'] });
      await context.route(`${origin}/**`, (route) => {
        const path = new URL(route.request().url()).pathname;
        if (path === '/' || path === '/index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: page.html });
        if (path === '/phone.js') return route.fulfill({ status: 200, contentType: 'text/javascript', body: page.js });
        return route.fulfill({ status: 404, body: '' });
      });
      const tab = await context.newPage();
      const lines: string[] = [];
      tab.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
      tab.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
      await tab.goto(`${origin}/`);
      await tab.waitForFunction(() => 'phone' in globalThis, undefined, { timeout: 10_000 });
      return {
        label,
        context,
        page: tab,
        console: lines,
        keep: async (dir) => {
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, `${label}.console.log`), lines.join('\n') + '\n');
          try {
            const state = await tab.evaluate(() => ({ state: (globalThis as unknown as PhoneWindow).phone.state }));
            writeFileSync(join(dir, `${label}.phone.json`), JSON.stringify(state, null, 2));
            await tab.screenshot({ path: join(dir, `${label}.png`) });
          } catch (err) {
            writeFileSync(join(dir, `${label}.error.txt`), String(err));
          }
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

/** The page's API (stack/webrtc/page/phone.js), as seen from page.evaluate. */
export interface PhoneWindow {
  phone: {
    start(opts: { wsUri: string; sipUri: string; password: string }): boolean;
    register(): boolean;
    call(target: string, extraHeaders?: string[]): boolean;
    hangup(): boolean;
    stop(): boolean;
    stats(): Promise<PhoneStats | null>;
    readonly state: PhoneState;
  };
}

export interface PhoneState {
  registered: boolean;
  registerResponses: number[];
  sessionEvents: string[];
  ended: boolean | null;
  log: Array<{ t: number; what: string; [key: string]: unknown }>;
}

export interface PhoneStats {
  connectionState: string;
  iceConnectionState: string;
  signalingState: string;
  inbound: { packetsReceived: number; bytesReceived: number; packetsLost: number; codec: string | null } | null;
  outbound: { packetsSent: number; bytesSent: number; codec: string | null } | null;
  pair: { state: string; nominated: boolean; local: string | null; remote: string | null } | null;
  dtlsState: string | null;
  localDescription: string | null;
  remoteDescription: string | null;
}
