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

  // Figures of the hand-counted district for March 2026: as town staff (their villages, the
  // heat map, the trends, the definitions), then as district staff (towns side by side).
  async figures({ page }) {
    await signIn(page, params.townUser, params.password);
    await page.click('header a:text-is("数据统计")');
    await page.fill('input[name=from]', params.from);
    await page.fill('input[name=to]', params.to);
    await Promise.all([page.waitForLoadState('load'), page.click('form.filters button[type=submit]')]);
    const row = (name) => page.locator('table.figures tr', { has: page.locator(`th:text-is("${name}")`) }).first();
    const cells = async (name) => (await row(name).locator('td').allTextContents()).map((t) => t.trim());
    const sanxing = await cells('三兴村');
    assert.equal(sanxing[0], '66.7%（2/3）', 'response rate with its parts');
    assert.equal(sanxing[1], '33.3%（1/3）', 'on-time rate');
    assert.equal(sanxing[2], '66.7%（2/3）', 'satisfaction');
    assert.equal(sanxing[3], '1 / 1 / 1');
    assert.equal(sanxing[4], '160.7（3件）');
    assert.deepEqual(sanxing.slice(5), ['4', '2', '2 / 1']);
    assert.equal((await cells('合计'))[0], '75.0%（3/4）');
    assert.equal(await page.locator('text=孝义村').count(), 0, 'no village of another town');
    const heat = page.locator('svg.heatmap');
    assert.equal(await heat.count(), 1);
    const heatText = await heat.textContent();
    assert.match(heatText, /三兴村 4/);
    assert.match(heatText, /紧急 2 · 较急 2 · 常规 0/);
    assert.match(heatText, /东王村 0/);
    assert.equal(await page.locator('svg.trends').count(), 1);
    assert.match(await page.locator('table.months').textContent(), /2026-03/);
    assert.match(await page.textContent('dl.definitions'), /分母：时段内办结的办件数/);
    await screenshot(page, 'console-figures-town');

    await page.click('header button[type=submit]');
    await signIn(page, params.districtUser, params.password);
    await page.goto(`${url}/console/figures?from=${params.from}&to=${params.to}`);
    assert.match(await page.textContent('main'), /各镇对比/);
    assert.equal((await cells('三张镇'))[5], '5');
    assert.equal((await cells('孝义镇'))[5], '1');
    assert.match(await page.locator('svg.heatmap').textContent(), /孝义村 1/);
    await screenshot(page, 'console-figures-district');
    await page.goto(`${url}/console/figures?from=2026-04-01&to=2026-03-01`);
    assert.match(await page.textContent('[role=alert]'), /开始日期晚于结束日期/);
  },

  // Exports as district staff: a masked workbook of everything and a CSV of 三兴村's members
  // are made in the background, listed with their progress, and downloaded into
  // params.downloads; without the permission no full export is offered.
  async exports({ page }) {
    await signIn(page, params.user, params.password);
    await page.click('header a:text-is("导出")');
    assert.equal(await page.locator('input[value=full]').count(), 0, 'full export not offered');
    const exportAs = async (scope, format, file) => {
      await page.selectOption('select[name=scope]', scope);
      await page.selectOption('select[name=format]', format);
      await Promise.all([page.waitForLoadState('load'), page.click('form.export button[type=submit]')]);
      const link = page.locator('tr', { hasText: file.scope }).first().locator('a.download');
      await link.waitFor({ timeout: 30000 });
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      assert.match(download.suggestedFilename(), new RegExp(`\\.${file.extension}$`));
      await download.saveAs(`${params.downloads}/${file.name}`);
    };
    await exportAs('all', 'xlsx', { scope: '全部（2 个镇）', extension: 'xlsx', name: 'masked.xlsx' });
    await screenshot(page, 'console-exports');
    await exportAs(params.village, 'csv-members', { scope: '三兴村', extension: 'csv', name: 'members.csv' });
  },

  // A full export once granted: refused without a reason, made with one.
  async fullExport({ page }) {
    await signIn(page, params.user, params.password);
    await page.goto(`${url}/console/exports`);
    await page.selectOption('select[name=scope]', params.village);
    await page.check('input[value=full]');
    await Promise.all([page.waitForLoadState('load'), page.click('form.export button[type=submit]')]);
    assert.match(await page.textContent('[role=alert]'), /完整导出的理由/);
    await page.goto(`${url}/console/exports`);
    await page.selectOption('select[name=scope]', params.village);
    await page.check('input[value=full]');
    await page.fill('input[name=reason]', params.reason);
    await Promise.all([page.waitForLoadState('load'), page.click('form.export button[type=submit]')]);
    const row = page.locator('tr', { hasText: params.reason }).first();
    await row.locator('a.download').waitFor({ timeout: 30000 });
    await screenshot(page, 'console-exports-full');
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('a.download').click()]);
    await download.saveAs(`${params.downloads}/full.xlsx`);
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
