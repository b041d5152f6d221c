// Helpers for the headless-browser tests: a browser that is Debian's chromium, screenshots,
// and a tiny runner. Tests register with `test(name, fn)` and call `run()` once at the end;
// each test gets its own fresh context and page, where any request to a host other than
// 127.0.0.1/localhost is aborted and fails the test (the console must not fetch from outside).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export { default as assert } from 'node:assert/strict';

// See /work/shared/TOOLCHAINS.md: without the background-networking flags Chromium keeps
// trying hosts that the closed network refuses.
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

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// Launches chromium headless. Playwright starts it with a fresh temporary profile
// (--user-data-dir) and deletes that on close; it refuses a --user-data-dir among `args`.
export function launch() {
  return chromium.launch({
    executablePath: process.env.DOORSTEP_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

// Saves a full-page PNG as `<name>.png` in $DOORSTEP_SCREENSHOTS (default target/screenshots
// in the repository) and returns its path.
export async function screenshot(page, name) {
  const dir = path.resolve(REPO_ROOT, process.env.DOORSTEP_SCREENSHOTS || 'target/screenshots');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const tests = [];

// Registers a test; `fn` receives `{ page, context }`.
export function test(name, fn) {
  tests.push({ name, fn });
}

// Runs the registered tests in order, prints `ok - name` or `not ok - name` with the error,
// and exits non-zero when any failed.
export async function run() {
  const browser = await launch();
  let failed = 0;
  for (const { name, fn } of tests) {
    const error = await runOne(browser, fn);
    if (error) {
      failed++;
      console.log(`not ok - ${name}`);
      console.log(indent(error.stack || String(error)));
    } else {
      console.log(`ok - ${name}`);
    }
  }
  await browser.close();
  console.log(`# ${tests.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// Runs one test in a fresh context; returns its error, or undefined when it passed.
async function runOne(browser, fn) {
  // Service workers are blocked because their requests would bypass the routes below.
  const context = await browser.newContext({ serviceWorkers: 'block', acceptDownloads: true });
  const blocked = await blockOutsideRequests(context);
  let error;
  try {
    await fn({ page: await context.newPage(), context });
  } catch (thrown) {
    error = thrown;
  }
  await context.close();
  if (blocked.length) {
    // A blocked request is the likelier cause of any other failure, so it is reported first.
    const also = error ? `\nand the test failed: ${error.message}` : '';
    return new Error(`requests to hosts outside 127.0.0.1/localhost:\n${blocked.join('\n')}${also}`);
  }
  return error;
}

// Aborts every request and WebSocket of `context` that goes beyond loopback; returns the
// list their URLs are added to.
async function blockOutsideRequests(context) {
  const blocked = [];
  await context.route(
    (url) => !isLoopback(url),
    (route) => {
      blocked.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  await context.routeWebSocket(
    (url) => !isLoopback(url),
    (ws) => {
      blocked.push(ws.url());
      return ws.close();
    },
  );
  return blocked;
}

function isLoopback(url) {
  return LOOPBACK_HOSTS.has(url.hostname);
}

function indent(text) {
  return text.replace(/^/gm, '    ');
}
