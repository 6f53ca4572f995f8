import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

import { ReferenceEngine } from '../src/reference/engine.js';
import { activeLine, order } from './support/events.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from './support/server.js';

/**
 * The dashboard end to end in headless Chromium (Debian's package, driven by playwright-core):
 * sign in with a distributor token, post orders in the downline, and watch the balance on the
 * page become the exact amount the serial reference computes. CI installs Chromium
 * (`.ci/run`); elsewhere, without it, this suite is skipped and the output says why.
 */

const CHROMIUM = process.env.UPLINE_CHROMIUM ?? '/usr/bin/chromium';
const browserMissing = existsSync(CHROMIUM)
  ? false
  : `browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;

/** Flags for a closed network: without them Chromium keeps trying to reach Google's hosts. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where screenshots go, for a person to look at; nothing asserts on pixels. */
const SHOTS = process.env.UPLINE_SCREENSHOTS ?? join(tmpdir(), 'upline-screenshots');

describe('dashboard in headless Chromium', { skip: browserMissing }, () => {
  let t: TestServer;
  let browser: Browser;
  let oracle: ReferenceEngine;

  before(async () => {
    t = await startTestServer();
    oracle = new ReferenceEngine(t.plan);
    await post(activeLine(8));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function post(events: readonly object[]): Promise<void> {
    const response = await t.post(events);
    assert.equal(response.status, 200);
    for (const event of events) oracle.processLine(JSON.stringify(event));
  }

  /** Polls `check` (the page updates on its own; the test only watches). */
  async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function balanceCents(page: Page): Promise<number> {
    const cents = await page.locator('[data-testid=balance]').getAttribute('data-cents');
    return Number(cents);
  }

  test('a distributor signs in and sees the balance change to the exact amount', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${t.base}/`);
    await page.locator('[data-testid=signin-token]').fill(t.tokenFor(3));
    await page.locator('[data-testid=signin-submit]').click();
    await page.locator('[data-testid=balance]').waitFor();
    assert.equal(await balanceCents(page), oracle.distributor(3)!.balanceCents);

    // Orders by 3's first level pay 3 unilevel: the page must move to the reference's figure.
    await post([order('b1', 'ob-browser-1', 4, 50, 20_000), order('b2', 'ob-browser-2', 4, 0, 7)]);
    const expected = oracle.distributor(3)!.balanceCents;
    assert.notEqual(expected, 0);
    await until(async () => (await balanceCents(page)) === expected, 10_000);
    assert.equal(await balanceCents(page), expected);
    const lines = await page.locator('[data-testid=lines]').innerText();
    assert.match(lines, /ob-browser-1/, 'the new line shows the order that caused it');
    // The balance counts up to its new value: let the animation finish before the picture.
    await page.waitForTimeout(1_500);
    await page.screenshot({ path: join(SHOTS, 'distributor-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SHOTS, 'distributor-phone.png'), fullPage: true });
    await page.close();
  });

  test('a wrong token is refused and the sign-in asks again', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.base}/?token=${encodeURIComponent(`d.3.${'A'.repeat(43)}`)}`);
    await page.locator('[data-testid=signin-token]').waitFor();
    assert.equal(await page.locator('[data-testid=balance]').count(), 0);
    await page.close();
  });

  test('the admin view shows engine figures', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${t.base}/?token=${encodeURIComponent(ADMIN_TOKEN)}`);
    const rate = page.locator('[data-testid=events-per-second]');
    await rate.waitFor();
    await post([order('c1', 'oc-browser-1', 5, 10, 1_000)]);
    await page.waitForTimeout(2_500);
    await page.screenshot({ path: join(SHOTS, 'admin-desktop.png'), fullPage: true });
    assert.match(await rate.innerText(), /^[0-9,.]+/);
    await page.close();
  });
});
