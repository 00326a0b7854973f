// A person at a browser: Debian's Chromium, headless, driven by playwright-core, signs in
// on an authorization server's page and consents.
//
//   node browser_sign_in.mjs AUTHORIZATION_URL REDIRECT_URI USERNAME PASSWORD
//
// Opens AUTHORIZATION_URL, first submits a wrong password (and records the page's error),
// then USERNAME and PASSWORD, and clicks "allow". The redirect to REDIRECT_URI (where
// nothing listens) is caught before it leaves the browser. Prints one JSON line:
// {"callback": "<REDIRECT_URI?code=...>", "wrongPassword": "<the error shown>", "title": "..."}.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [authorizationUrl, redirectUri, username, password] = process.argv.slice(2);
if (!password) {
    console.error('usage: node browser_sign_in.mjs AUTHORIZATION_URL REDIRECT_URI USERNAME PASSWORD');
    process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const nodeModules =
    process.env.MCP_E2E_NODE_MODULES ?? path.resolve(here, '..', '..', '.tools', 'node', 'node_modules');
const { chromium } = await import(pathToFileURL(path.join(nodeModules, 'playwright-core', 'index.mjs')).href);

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Tests run as root in CI, where Chromium's sandbox cannot start.
    args: ['--no-sandbox'],
});
try {
    const page = await browser.newPage();
    let callback;
    const arrived = new Promise((resolve) => {
        page.route((url) => url.href.startsWith(redirectUri), async (route) => {
            callback = route.request().url();
            await route.fulfill({ status: 200, contentType: 'text/plain', body: 'signed in' });
            resolve();
        });
    });
    await page.goto(authorizationUrl);
    const title = await page.title();

    await page.fill('#username', username);
    await page.fill('#password', `${password}-wrong`);
    await Promise.all([page.waitForLoadState('load'), page.click('button[value=allow]')]);
    const wrongPassword = (await page.locator('[role=alert]').textContent({ timeout: 10_000 })) ?? '';

    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button[value=allow]');
    await Promise.race([
        arrived,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no redirect to ${redirectUri} within 20 s; at ${page.url()}`)), 20_000)),
    ]);
    console.log(JSON.stringify({ callback, wrongPassword: wrongPassword.trim(), title }));
} finally {
    await browser.close();
}
