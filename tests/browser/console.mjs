// The hub console in headless Chromium, one phase per run: tests/tests/console.rs prepares the
// town and the phones, runs a phase with `DOORSTEP_PHASE` and its inputs in `DOORSTEP_PARAMS`
// (JSON), then checks on the phones what the phase did. Screenshots of every page go to
// $DOORSTEP_SCREENSHOTS (target/screenshots).
import { assert, run, screenshot, test } from './lib/browser.mjs';

const url = process.env.DOORSTEP_CONSOLE_URL;
const phase = process.env.DOORSTEP_PHASE;
const params = JSON.parse(process.env.DOORSTEP_PARAMS || '{}');
assert.ok(url && phase, 'run through tests/tests/console.rs (DOORSTEP_CONSOLE_URL, DOORSTEP_PHASE)');

async function signIn(page, user, password) {
  await page.goto(`${url}/console/login`);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(`${url}/console`), page.click('button[type=submit]')]);
}

function casePath(household, job) {
  return `${url}/console/cases/${household}/${job}`;
}

// Takes a step on the case page by the button's label, filling its text field if it has one.
async function takeStep(page, label, text) {
  const form = page.locator('form.step', { has: page.locator(`legend:text-is("${label}")`) });
  assert.equal(await form.count(), 1, `the step ${label} is offered`);
  if (text !== undefined) await form.locator('input[name=text]').fill(text);
  await Promise.all([page.waitForLoadState('load'), form.locator('button[type=submit]').click()]);
  await page.waitForSelector('.ok, .error, .notice');
  const message = await page.locator('[role=alert]').first().textContent();
  assert.match(message, new RegExp(`已${label}`), `after ${label}: ${message}`);
}

const phases = {
  async pages({ page }) {
    await signIn(page, params.user, params.password);
    assert.match(await page.textContent('h1'), /今日/);
    await screenshot(page, 'console-today');
    await page.goto(`${url}/console/cases`);
    await screenshot(page, 'console-cases');
    await page.fill('input[name=q]', params.search);
    await Promise.all([page.waitForLoadState('load'), page.click('form.filters button')]);
    const rows = page.locator('table.cases tr');
    assert.ok((await rows.count()) > 1, `searching ${params.search} finds the case`);
    assert.ok(!(await page.content()).includes(params.idNumber), 'identity numbers are masked');
    await screenshot(page, 'console-cases-search');
    await page.goto(`${url}/console/reconcile`);
    await screenshot(page, 'console-reconcile');
  },

  async reconcile({ page, context }) {
    await signIn(page, params.user, params.password);
    await page.goto(`${url}/console/reconcile`);
    // A second tab shows the same conflict; it goes stale once the first tab has chosen.
    const stale = await context.newPage();
    await stale.goto(`${url}/console/reconcile`);
    const choose = async (tab) => {
      const option = tab.locator('.values label', { hasText: params.value });
      assert.ok((await option.count()) >= 1, `the value ${params.value} is offered`);
      await option.first().locator('input[type=radio]').check();
      await Promise.all([
        tab.waitForLoadState('load'),
        option.first().locator('xpath=ancestor::form').locator('button[type=submit]').click(),
      ]);
      return tab.locator('[role=alert]').first().textContent();
    };
    assert.match(await page.textContent('main'), /填写时间（手机上）：2026-11-20/);
    assert.match(await choose(page), /已选定/);
    await screenshot(page, 'console-reconcile-chosen');
    const refused = await choose(stale).catch((e) => String(e));
    assert.match(refused, /已有更新|已被处理|is offered/, `the stale tab is refused: ${refused}`);
    await screenshot(stale, 'console-reconcile-stale');
  },

  async handUp({ page }) {
    await signIn(page, params.user, params.password);
    await page.goto(casePath(params.household, params.job));
    await screenshot(page, 'console-case-handed-up');
    await takeStep(page, '镇级接件');
    await takeStep(page, '批准');
    await takeStep(page, '办结', params.result);
    assert.match(await page.textContent('table'), /已办结/);
    // Every step shows when the server received it, next to the phone's own time.
    const history = page.locator('h2:text-is("办理经过") + table tr');
    const rows = await history.count();
    assert.ok(rows >= 7, `the whole history is shown (${rows - 1} steps)`);
    for (let n = 1; n < rows; n++) {
      const received = await history.nth(n).locator('td').last().textContent();
      assert.match(received, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/, `step ${n} has its received time`);
    }
    await screenshot(page, 'console-case-completed');
  },

  async returnJob({ page }) {
    await signIn(page, params.user, params.password);
    await page.goto(casePath(params.household, params.job));
    await takeStep(page, '镇级接件');
    await takeStep(page, '退回', params.reason);
    await screenshot(page, 'console-case-returned');
  },

  async forgedForm({ page }) {
    await signIn(page, params.user, params.password);
    const action = `${casePath(params.household, params.job)}/steps`;
    for (const csrf of [undefined, '0'.repeat(64)]) {
      const form = { heads: '', step: 'town_accept' };
      if (csrf) form.csrf = csrf;
      const response = await page.request.post(action, { form, maxRedirects: 0 });
      assert.ok([400, 403, 422].includes(response.status()), `forged post answered ${response.status()}`);
    }
    // Signed out, a post is sent to sign in.
    await page.context().clearCookies();
    const response = await page.request.post(action, { form: { step: 'town_accept' }, maxRedirects: 0 });
    assert.ok([303, 307, 403].includes(response.status()), `signed-out post answered ${response.status()}`);
  },

  async otherTown({ page }) {
    await signIn(page, params.user, params.password);
    const today = await page.content();
    for (const name of params.hidden) assert.ok(!today.includes(name), `${name} is not shown`);
    await screenshot(page, 'console-other-town');
    const response = await page.goto(casePath(params.household, params.job));
    assert.equal(response.status(), 404);
    await page.goto(`${url}/console/cases`);
    assert.match(await page.textContent('main'), /共 0 件/);
    await page.goto(`${url}/console/reconcile`);
    assert.match(await page.textContent('main'), /没有待处理的冲突/);
  },

  async intake({ page }) {
    await signIn(page, params.user, params.password);
    const register = async (kind, summary) => {
      await page.goto(`${url}/console/intake`);
      await page.fill('input[name=q]', params.search);
      await Promise.all([page.waitForLoadState('load'), page.click('form.filters button')]);
      await Promise.all([page.waitForLoadState('load'), page.click('text=为此人登记')]);
      await page.selectOption('select[name=source]', 'hotline_12345');
      await page.fill('input[name=summary]', summary);
      await page.check(`input[name=kind][value=${kind}]`);
      if (kind === 'job') {
        await page.selectOption('select[name=item]', params.item);
        await page.selectOption('select[name=mode]', params.mode);
      }
      await Promise.all([page.waitForLoadState('load'), page.click('form.intake button')]);
      assert.match(await page.locator('[role=alert]').first().textContent(), /已登记/);
    };
    await register('ledger', params.need);
    await register('job', params.jobNeed);
    const list = await page.textContent('main');
    assert.ok(list.includes(params.need) && list.includes(params.jobNeed), 'both intakes are listed');
    await screenshot(page, 'console-intake');
  },

  async intakeFollowed({ page }) {
    await signIn(page, params.user, params.password);
    await page.goto(`${url}/console/intake`);
    const row = page.locator('tr', { hasText: params.jobNeed });
    const text = await row.textContent();
    assert.match(text, /已销号/);
    assert.match(text, /好评/);
    await screenshot(page, 'console-intake-followed');
  },

  async voidStep({ page }) {
    await signIn(page, params.user, params.password);
    await page.goto(casePath(params.household, params.job));
    assert.match(await page.textContent('.notice'), /相互矛盾/);
    const form = page.locator('form.step', { has: page.locator('legend', { hasText: '协调处理冲突' }) });
    await form.locator('label', { hasText: params.void }).locator('input[type=radio]').check();
    await form.locator('input[name=text]').fill(params.note);
    await Promise.all([page.waitForLoadState('load'), form.locator('button[type=submit]').click()]);
    assert.match(await page.locator('[role=alert]').first().textContent(), /已协调处理冲突/);
    assert.equal(await page.locator('.notice').count(), 0, 'no contradiction is left');
    await screenshot(page, 'console-case-reconciled');
    // Signing out ends the session: the console asks to sign in again.
    await Promise.all([page.waitForURL(`${url}/console/login`), page.click('header button[type=submit]')]);
    await page.goto(`${url}/console`);
    assert.equal(new URL(page.url()).pathname, '/console/login');
  },

  async badSignIn({ page }) {
    await page.goto(`${url}/console/login`);
    await page.fill('input[name=user]', params.user);
    await page.fill('input[name=password]', 'wrong password');
    await page.click('button[type=submit]');
    await page.waitForSelector('.error');
    assert.match(await page.textContent('.error'), /工号或密码不正确/);
    await screenshot(page, 'console-sign-in-refused');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'doorstep_console');
    assert.ok(!session, 'no session after a refused sign-in');
    const login = cookies.find((c) => c.name === 'doorstep_login');
    assert.ok(login.httpOnly && login.sameSite === 'Strict', 'cookies are HttpOnly and SameSite');
  },
};

assert.ok(phases[phase], `unknown phase ${phase}`);
test(phase, phases[phase]);
await run();
