import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../scripts/chromium.js';

/**
 * Chromium for the web tests: one context in zh-CN (the port's language), every
 * request a page makes outside its own origin recorded (the page must work on a
 * port network without internet), every console and page error kept, and the
 * sign-in each test starts with.
 */
export class WebBrowser {
  /** Requests that left the page's origin: must stay empty. */
  readonly foreign: string[] = [];
  /** Console errors and uncaught page errors, with the page's URL: must stay empty. */
  readonly consoleErrors: string[] = [];

  private constructor(
    private readonly browser: Browser,
    readonly context: BrowserContext,
    private readonly origin: string,
  ) {}

  static async open(origin: string): Promise<WebBrowser> {
    const browser = await launchChromium();
    const context = await browser.newContext({ locale: 'zh-CN' });
    const web = new WebBrowser(browser, context, origin);
    context.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:')) web.foreign.push(u);
    });
    return web;
  }

  /** A new page at this viewport (a 1920×1080 wall screen unless told). */
  async page(viewport = { width: 1920, height: 1080 }): Promise<Page> {
    const p = await this.context.newPage();
    await p.setViewportSize(viewport);
    p.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(`${p.url()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => this.consoleErrors.push(`${p.url()}: ${e.message}`));
    return p;
  }

  /** Signs in with a token, landing on `hash` (a view such as `#/dispatch`). */
  async signIn(p: Page, token: string, hash = ''): Promise<void> {
    await p.goto(`${this.origin}/${hash}`);
    await p.fill('#token', token);
    await p.click('button[type=submit]');
    await p.waitForSelector('header nav');
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}
