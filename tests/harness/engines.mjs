// The three browser engines through WebDriver (selenium-webdriver): Chromium (chromedriver),
// Firefox ESR (geckodriver) and WebKitGTK's MiniBrowser (WebKitWebDriver), each wrapped as a
// small Playwright-like page (goto, evaluate, waitForFunction, click, hover, mouse) so the
// scenarios of scenarios.mjs run unchanged in every engine. Playwright's own Firefox/WebKit
// builds cannot be downloaded here, hence WebDriver. Drivers listen on free ports the OS picks.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Builder, By, Capabilities, Origin } from 'selenium-webdriver';
import chrome from 'selenium-webdriver/chrome.js';
import firefox from 'selenium-webdriver/firefox.js';
import remote from 'selenium-webdriver/remote/index.js';
import { findFreePort } from 'selenium-webdriver/net/portprober.js';

export const ENGINES = ['chromium', 'firefox', 'webkit'];

/** The viewport every scenario gets (the Playwright suites use the same). */
export const VIEWPORT = { width: 1000, height: 800 };

const which = (command) => {
  try { return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim(); } catch { return ''; }
};
const geckodriver = () => which('geckodriver') || path.join(os.homedir(), '.cargo/bin/geckodriver');
const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser'].find(existsSync);

/** The binaries each engine needs (scripts/ensure.sh installs them: step `browsers`). */
export function missing(engine) {
  const need = { chromium: ['/usr/bin/chromium', '/usr/bin/chromedriver'], firefox: ['/usr/bin/firefox-esr', geckodriver()], webkit: ['/usr/bin/WebKitWebDriver', MINIBROWSER ?? 'MiniBrowser', '/usr/bin/Xvfb'] }[engine];
  return need.filter((f) => !f || !existsSync(f));
}

let xvfb; // one X server for every WebKit session of this process (MiniBrowser needs a display)
async function display() {
  if (process.env.DISPLAY) return process.env.DISPLAY;
  if (!xvfb) {
    // -displayfd: the server picks a free display number and writes it to fd 3.
    const child = spawn('/usr/bin/Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    xvfb = new Promise((resolve, reject) => {
      let out = '';
      child.stdio[3].on('data', (d) => { out += d; if (out.includes('\n')) resolve({ child, name: `:${out.trim()}` }); });
      child.on('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
    });
    process.on('exit', () => child.kill());
  }
  return (await xvfb).name;
}

/** Stops the X server started for WebKit, if any. */
export async function stopDisplay() {
  if (!xvfb) return;
  const { child } = await xvfb;
  child.kill();
  xvfb = undefined;
}

async function build(engine) {
  if (engine === 'chromium') {
    const options = new chrome.Options().setChromeBinaryPath('/usr/bin/chromium')
      .addArguments('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', `--window-size=${VIEWPORT.width},${VIEWPORT.height}`);
    return new Builder().forBrowser('chrome').setChromeOptions(options)
      .setChromeService(new chrome.ServiceBuilder('/usr/bin/chromedriver')).build();
  }
  if (engine === 'firefox') {
    const options = new firefox.Options().setBinary('/usr/bin/firefox-esr').addArguments('-headless', `--width=${VIEWPORT.width}`, `--height=${VIEWPORT.height}`);
    return new Builder().forBrowser('firefox').setFirefoxOptions(options)
      .setFirefoxService(new firefox.ServiceBuilder(geckodriver())).build();
  }
  if (engine === 'webkit') {
    const port = await findFreePort();
    const service = new remote.DriverService('/usr/bin/WebKitWebDriver', {
      port, hostname: '127.0.0.1', args: [`--port=${port}`, '--host=127.0.0.1'], env: { ...process.env, DISPLAY: await display() },
    });
    const url = await service.start(30_000);
    const caps = new Capabilities();
    caps.set('browserName', 'MiniBrowser');
    caps.set('webkitgtk:browserOptions', { binary: MINIBROWSER, args: ['--automation'] });
    const driver = await new Builder().usingServer(url).withCapabilities(caps).build();
    driver.service = service;
    return driver;
  }
  throw new Error(`unknown engine ${engine}`);
}

/** A new browser session of `engine` with one page sized to VIEWPORT. */
export async function openPage(engine) {
  const driver = await build(engine);
  const page = new Page(driver, engine);
  try { await page.fitViewport(); } catch (e) { await page.close(); throw e; }
  return page;
}

export class Page {
  constructor(driver, engine) { this.driver = driver; this.engine = engine; }

  /** Resizes the window until the page's inner size is VIEWPORT (window chrome differs). */
  async fitViewport() {
    await this.driver.get('about:blank');
    for (let i = 0; i < 3; i++) {
      const inner = await this.driver.executeScript('return [innerWidth, innerHeight]');
      if (inner[0] === VIEWPORT.width && inner[1] === VIEWPORT.height) return;
      const rect = await this.driver.manage().window().getRect();
      await this.driver.manage().window().setRect({ width: rect.width + VIEWPORT.width - inner[0], height: rect.height + VIEWPORT.height - inner[1] });
    }
  }

  goto(url) { return this.driver.get(url); }

  /** Brings the window to the front (WebDriver "Switch To Window") so the document has focus:
   * ad viewability counts only while the page is visible and focused, and under Xvfb, with no
   * window manager, a browser window may start unfocused. Returns `document.hasFocus()` after. */
  async focusWindow() {
    await this.driver.switchTo().window(await this.driver.getWindowHandle());
    return this.evaluate(() => document.hasFocus());
  }

  /** Runs `fn(arg)` in the page (awaiting a returned promise); its exceptions are thrown here. */
  async evaluate(fn, arg) {
    const result = await this.driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       Promise.resolve().then(() => (${fn})(arguments[0]))
         .then((value) => done({ value: value === undefined ? null : value }), (e) => done({ error: String(e && e.stack || e) }));`, arg ?? null);
    if (result && 'error' in result) throw new Error(`in the page (${this.engine}): ${result.error}`);
    return result?.value;
  }

  /** Polls `fn(arg)` in the page until it is truthy; fails after `timeoutMs`. */
  async waitForFunction(fn, arg, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await this.evaluate(fn, arg).catch(() => false); // mid-navigation
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`${this.engine}: ${fn} not true within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async click(selector) { await this.driver.findElement(By.css(selector)).click(); }

  async hover(selector) {
    const element = await this.driver.findElement(By.css(selector));
    await this.driver.actions().move({ origin: element }).perform();
  }

  /** Pointer to a viewport point (CSS pixels). */
  async mouseMove(x, y) { await this.driver.actions().move({ x, y, origin: Origin.VIEWPORT }).perform(); }

  async mouseClick(x, y) { await this.driver.actions().move({ x, y, origin: Origin.VIEWPORT }).click().perform(); }

  async reload() { await this.driver.navigate().refresh(); }

  async close() {
    try { await this.driver.quit(); } catch { /* already gone */ }
    if (this.driver.service) await this.driver.service.kill();
  }
}
