// Browser tests of the portal: playwright-core drives Debian's headless chromium against a
// running platform that tests/browser/portal_browser_test.cc starts (it sets the
// environment read below). Every page visited is checked with axe-core (no serious or
// critical WCAG 2.1 A/AA violations) and photographed at phone and desktop width.
//
// Run by ctest (e2e_portal_browser_test); by hand: node --test tests/browser/portal.test.mjs
// with the variables below set.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const env = process.env;
for (const name of ['PORTAL_URL', 'OUTBOX_DIR', 'CUSTOMER_EMAIL', 'CUSTOMER_ID', 'OTHER_CUSTOMER_ID', 'CDPCTL',
                    'PKI_DIR', 'PROFILE_TARGET', 'AUDITOR_NAME', 'AUDITOR_PASSWORD', 'AUDITOR_TOTP_SECRET_BASE32',
                    'SCREENSHOT_DIR', 'ERASE_EMAIL', 'OTHER_CUSTOMER_EMAIL', 'RIGHTS_TARGET']) {
  if (!env[name]) throw new Error(`${name} is not set; this script runs under e2e_portal_browser_test`);
}
const base = env.PORTAL_URL;
const shots = env.SCREENSHOT_DIR;
fs.mkdirSync(shots, { recursive: true });

let browser;
before(async () => {
  // As root chromium needs --no-sandbox; the rest keeps it off a network it cannot reach.
  browser = await chromium.launch({
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); });

// A context as a customer's phone: the development CA is not trusted by this browser, and
// axe is injected past the pages' CSP (which forbids every script, as it should).
async function newContext(options = {}) {
  return browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true, viewport: { width: 390, height: 844 },
                              locale: 'nl-NL', ...options });
}

// Accessibility and screenshots of the page as it is now.
async function checkPage(page, name) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [],
                   `${name}: accessibility violations`);
  for (const [label, size] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1280, height: 900 }]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(shots, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 390, height: 844 });
}

// The newest sign-in link mailed to `address` after `since` (ms), from the outbox folder.
async function signInLink(address, since) {
  for (let i = 0; i < 100; i++) {
    const files = fs.existsSync(env.OUTBOX_DIR) ? fs.readdirSync(env.OUTBOX_DIR).filter((f) => f.endsWith('.eml')) : [];
    const mails = files.map((f) => path.join(env.OUTBOX_DIR, f))
      .filter((f) => fs.statSync(f).mtimeMs >= since)
      .map((f) => fs.readFileSync(f, 'utf8'))
      .filter((m) => m.includes(`\r\nTo: ${address}\r\n`));
    const link = mails.map((m) => m.match(/https:\/\/\S+\/signin\/link\?token=[A-Za-z0-9_-]+/)).filter(Boolean).pop();
    if (link) return link[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no sign-in mail for ${address} in ${env.OUTBOX_DIR}`);
}

async function signIn(page, address) {
  const since = Date.now() - 1000;
  await page.goto(base + '/');
  await page.getByLabel(/e-mailadres|e-mail address/).fill(address);
  await page.getByRole('button', { name: /inloglink|sign-in link/ }).click();
  await page.getByRole('heading', { name: /Kijk in uw e-mail|Check your e-mail/ }).waitFor();
  const link = await signInLink(address, since);
  await page.goto(link);
  await page.getByRole('button', { name: /^(Inloggen|Sign in)$/ }).click();
  await page.waitForURL(base + '/my');
  return link;
}

function totp(base32) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// An internal service's read, as the support desk reads with its own certificate.
function supportDeskRead(purpose, fields) {
  return execFileSync(env.CDPCTL, [
    `--tls_cert=${env.PKI_DIR}/service-support-desk.crt`, `--tls_key=${env.PKI_DIR}/service-support-desk.key`,
    `--tls_ca=${env.PKI_DIR}/ca.crt`, `--target=${env.PROFILE_TARGET}`, 'read', env.CUSTOMER_ID,
    `--purpose=${purpose}`, `--fields=${fields}`, '--acting_party=human_agent:agent-7',
    '--justification=fraud_alert:case-99'], { encoding: 'utf8' });
}

test('a customer signs in by e-mail link, objects to a use, and sees the next read withheld and explained', async () => {
  const ctx = await newContext();
  const page = await ctx.newPage();

  await page.goto(base + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'nl', 'Dutch by default');
  await checkPage(page, 'sign-in');
  const since = Date.now() - 1000;
  await page.getByLabel('Uw e-mailadres').fill(env.CUSTOMER_EMAIL);
  await page.getByRole('button', { name: 'Stuur mij een inloglink' }).click();
  await page.getByRole('heading', { name: 'Kijk in uw e-mail' }).waitFor();
  await checkPage(page, 'sign-in-sent');
  // An unknown address gets the very same answer.
  await page.goto(base + '/');
  await page.getByLabel('Uw e-mailadres').fill('nobody.known@example.nl');
  await page.getByRole('button', { name: 'Stuur mij een inloglink' }).click();
  await page.getByRole('heading', { name: 'Kijk in uw e-mail' }).waitFor();

  const link = await signInLink(env.CUSTOMER_EMAIL, since);
  await page.goto(link);
  await checkPage(page, 'sign-in-link');
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL(base + '/my');
  const cookies = await ctx.cookies();
  const session = cookies.find((c) => c.name === '__Host-cdp_session');
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === 'Strict', 'session cookie flags');
  await checkPage(page, 'overview');

  await page.getByRole('link', { name: 'Mijn gegevens' }).first().click();
  await page.getByRole('heading', { name: 'Mijn gegevens', level: 1 }).waitFor();
  const data = await page.textContent('main');
  assert.match(data, /sanne\.devries@example\.nl/);
  assert.match(data, /Bron: klantenbestand \(CRM\)/);
  await checkPage(page, 'my-data');

  // Object to fraud checks using the e-mail address (legitimate interest: on by default).
  await page.goto(base + '/my/choices');
  await checkPage(page, 'my-choices');
  const box = page.locator('#c-fraud-prevention-email');
  await page.locator('details', { has: box }).locator('summary').click();
  assert.equal(await box.isChecked(), true, 'legitimate interest is on until the customer objects');
  await box.uncheck();
  await page.getByRole('button', { name: 'Keuzes opslaan' }).click();
  await page.getByText('Uw keuzes zijn opgeslagen.').waitFor();
  assert.match(await page.textContent('main'), /Uw e-mailadres: niet voor Fraude voorkomen/);
  await checkPage(page, 'choices-saved');
  const [download] = await Promise.all([page.waitForEvent('download'),
                                        page.getByRole('link', { name: 'Bewijs downloaden' }).click()]);
  const jws = fs.readFileSync(await download.path(), 'utf8').trim();
  assert.equal(jws.split('.').length, 3, 'the receipt is a compact JWS');

  // The support desk's next read for fraud prevention withholds the e-mail address (the
  // replica learns of the change within its bound, so a moment's retry is allowed).
  let read = '';
  for (let i = 0; i < 60 && !/email\s+\(withheld: customer_field_choice\)/.test(read); i++) {
    read = supportDeskRead('fraud-prevention', 'email,given_name');
    if (!/email\s+\(withheld/.test(read)) await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(read, /email\s+\(withheld: customer_field_choice\)/);
  assert.match(read, /given_name\s+Sanne/);

  // ... and the customer sees it explained in the timeline, checked against the signed log.
  let item;
  for (let i = 0; i < 50; i++) {
    await page.goto(base + '/my/access');
    item = page.locator('ol.timeline li', { hasText: 'een medewerker van de klantenservice' }).first();
    if ((await item.count()) > 0 && /Gecontroleerd/.test(await item.textContent())) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const text = await item.textContent();
  assert.match(text, /een mens/, 'a person, named as such');
  assert.match(text, /Fraude voorkomen/);
  assert.match(text, /Niet getoond: uw e-mailadres \(u heeft dit uitgezet\)/);
  assert.match(text, /Gecontroleerd: staat in het ondertekende logboek/);
  // The customer's own visits to My data are left out unless asked for.
  assert.doesNotMatch(await page.textContent('ol.timeline'), /op uw eigen verzoek/);
  await checkPage(page, 'timeline');
  await page.getByRole('link', { name: 'Toon ze ook' }).click();
  assert.match(await page.textContent('ol.timeline'), /op uw eigen verzoek/);
  await page.goto(base + '/my/access');

  // English is one tap away.
  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Who looked at my data?' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('main'), /a customer-service employee \(a person\)/);
  await checkPage(page, 'timeline-en');
  for (const [path, name] of [['/my', 'overview-en'], ['/my/data', 'my-data-en'], ['/my/choices', 'my-choices-en'],
                              ['/my/download', 'download-en'], ['/my/erase', 'erase-en']]) {
    await page.goto(base + path);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await checkPage(page, name);
  }
  await page.goto(base + '/my/access');
  await page.getByRole('link', { name: 'Nederlands' }).click();
  await page.getByRole('heading', { name: 'Wie keek er naar mijn gegevens?' }).waitFor();

  await page.goto(base + '/my/download');
  await checkPage(page, 'download');
  // The complete export (the rights service's): the data with its sources and every item of
  // GDPR Art. 15(1) a-h, including the support desk as a recipient.
  const own = await page.request.get(`${base}/api/customers/${env.CUSTOMER_ID}/data.json`);
  assert.equal(own.status(), 200);
  const exported = await own.json();
  assert.equal(exported.personal_data.find((f) => f.field === 'email').value, 'sanne.devries@example.nl');
  assert.equal(exported.personal_data.find((f) => f.field === 'email').source_system, 'crm');
  for (const key of ['purposes', 'categories', 'recipients', 'sources', 'automated_processing', 'your_rights',
                     'complaint']) {
    assert.ok(key in exported, `export has ${key}`);
  }
  assert.ok(exported.recipients.some((r) => r.caller === 'spiffe://cdp.local/service/support-desk'));
  assert.ok(exported.purposes.find((p) => p.purpose === 'legal-retention').retention_days > 0);
  const report = await page.request.get(`${base}/api/customers/${env.CUSTOMER_ID}/report.html`);
  assert.equal(report.status(), 200);
  assert.match(await report.text(), /Wie uw gegevens kreeg/);
  // Restricting use (Art. 18) from the portal: the support desk is then shown nothing,
  // until the customer lifts it again.
  await page.goto(base + '/my/erase');
  await checkPage(page, 'erase');
  await page.getByRole('button', { name: 'Gebruik beperken' }).click();
  await page.getByText('Het gebruik van uw gegevens is nu beperkt.').waitFor();
  await checkPage(page, 'restricted');
  let restricted = '';
  for (let i = 0; i < 60 && !/given_name\s+\(withheld: restricted_by_customer\)/.test(restricted); i++) {
    restricted = supportDeskRead('fraud-prevention', 'given_name');
  }
  assert.match(restricted, /given_name\s+\(withheld: restricted_by_customer\)/);
  await page.getByRole('button', { name: 'Beperking opheffen' }).click();
  await page.getByText('De beperking is opgeheven.').waitFor();

  // Another customer's id in a URL is refused; a customer id in a page's query is ignored.
  const other = await page.request.get(`${base}/api/customers/${env.OTHER_CUSTOMER_ID}/data.json`);
  assert.equal(other.status(), 403);
  assert.doesNotMatch(await other.text(), /Kees|kees/);
  await page.goto(`${base}/my/data?customer=${env.OTHER_CUSTOMER_ID}&profile_id=${env.OTHER_CUSTOMER_ID}`);
  assert.doesNotMatch(await page.textContent('main'), /Kees|kees/);
  assert.match(await page.textContent('main'), /Sanne/);

  // A form posted without its CSRF token is refused, and changes nothing.
  const forged = await page.request.post(`${base}/my/choices`,
                                         { form: { allow: 'fraud-prevention/email', version: '0', key: 'forged' } });
  assert.equal(forged.status(), 403);
  await page.goto(base + '/my/choices');
  await page.locator('details', { has: box }).locator('summary').click();
  assert.equal(await box.isChecked(), false, 'the forged form changed nothing');

  // Signing out ends the session; the used link does not work again.
  await page.getByRole('button', { name: 'Uitloggen' }).click();
  await page.getByText('U bent uitgelogd.').waitFor();
  await page.goto(base + '/my/data');
  assert.equal(new URL(page.url()).pathname, '/', 'signed out: back to sign-in');
  await page.goto(link);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.getByRole('heading', { name: 'Deze link werkt niet meer' }).waitFor();
  await checkPage(page, 'link-used');
  await ctx.close();
});

test('an auditor finds that access, verifies it, checks the log and exports it', async () => {
  const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(base + '/audit/signin');
  await checkPage(page, 'auditor-sign-in');
  await page.getByLabel('Accountnaam').fill(env.AUDITOR_NAME);
  await page.getByLabel('Wachtwoord').fill('wrong password');
  await page.getByLabel(/Code uit uw app/).fill(totp(env.AUDITOR_TOTP_SECRET_BASE32));
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.getByText('Accountnaam, wachtwoord of code klopt niet.').waitFor();
  await page.getByLabel('Accountnaam').fill(env.AUDITOR_NAME);
  await page.getByLabel('Wachtwoord').fill(env.AUDITOR_PASSWORD);
  await page.getByLabel(/Code uit uw app/).fill(totp(env.AUDITOR_TOTP_SECRET_BASE32));
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL(base + '/audit');
  await checkPage(page, 'auditor-search-form');

  await page.getByLabel('Aanroepende dienst').selectOption('spiffe://cdp.local/service/support-desk');
  await page.getByLabel('Doel').selectOption('fraud-prevention');
  await page.getByLabel(/Waarom kijkt u/).selectOption('legal_request');
  await page.getByLabel('Dossier- of zaaknummer').fill('DPO-2026-17');
  await page.getByRole('button', { name: 'Zoeken' }).click();
  const row = page.locator('tbody tr', { hasText: 'email (customer_field_choice)' }).first();
  await row.waitFor();
  await checkPage(page, 'auditor-search-results');
  await row.getByRole('link').first().click();
  await page.getByText(/Geverifieerd: dit event staat/).waitFor();
  assert.match(await page.textContent('main'), /agent-7/);
  await checkPage(page, 'auditor-event');

  await page.getByRole('link', { name: 'Integriteit' }).click();
  await page.getByRole('button', { name: 'Nu verifiëren' }).click();
  await page.getByText('Verificatie uitgevoerd.').waitFor();
  assert.match(await page.textContent('main'), /In orde/);
  assert.match(await page.textContent('main'), /Handtekening klopt met de vertrouwde sleutel/);
  await checkPage(page, 'auditor-integrity');

  await page.getByRole('link', { name: 'Geweigerd' }).click();
  await page.getByLabel(/Waarom kijkt u/).selectOption('legal_request');
  await page.getByRole('button', { name: 'Zoeken' }).click();
  await page.locator('main').getByText(/Niets gevonden|#/).first().waitFor();
  await checkPage(page, 'auditor-denied');
  await page.getByRole('link', { name: 'Ongebruikelijk' }).click();
  await page.getByLabel(/Waarom kijkt u/).selectOption('legal_request');
  await page.getByRole('button', { name: 'Toon rapport' }).click();
  await page.locator('main p[role=status], main table').first().waitFor();
  await checkPage(page, 'auditor-unusual');

  // The export has the access, and the auditor's own looks, each naming the auditor.
  const csv = await page.request.get(`${base}/audit/export.csv?why=legal_request&ref=DPO-2026-17`);
  assert.equal(csv.status(), 200);
  const body = await csv.text();
  assert.match(body, /^position,event_id,time,caller/);
  assert.match(body, /spiffe:\/\/cdp\.local\/service\/support-desk,human_agent,agent-7,/);
  assert.match(body, /access-log-review,.*auditor:inspector|auditor:inspector,.*access-log-review/);

  // An event that does not exist: a readable page, in the same accessible layout.
  await page.goto(`${base}/audit/event?position=999999&why=legal_request`);
  await page.getByRole('heading', { name: 'Niet gevonden' }).waitFor();
  await checkPage(page, 'auditor-not-found');

  // Auditors only read: the customer pages are not theirs.
  await page.goto(base + '/my/data');
  assert.equal(new URL(page.url()).pathname, '/');
  await ctx.close();
});

test('the portal works without JavaScript', async () => {
  const ctx = await newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page, env.CUSTOMER_EMAIL);
  await page.goto(base + '/my/choices');
  // Without script the categories still open and the form still posts.
  const box = page.locator('#c-fraud-prevention-email');
  await page.locator('details', { has: box }).locator('summary').click();
  await box.check();
  await page.getByRole('button', { name: 'Keuzes opslaan' }).click();
  await page.getByText('Uw keuzes zijn opgeslagen.').waitFor();
  assert.match(await page.textContent('main'), /Uw e-mailadres: wel voor Fraude voorkomen/);
  await ctx.close();
});

// Last, since it destroys a customer: erasure from the portal, as the customer does it.
test('a customer erases their data, keeps the signed proof, and can no longer sign in', async () => {
  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, env.ERASE_EMAIL);
  await page.goto(base + '/my/erase');
  await checkPage(page, 'erase-confirm');
  // The box must be ticked first: the browser will not send the form without it.
  await page.getByRole('button', { name: 'Wis al mijn gegevens' }).click();
  assert.equal(new URL(page.url()).pathname, '/my/erase');
  await page.getByLabel('Ik begrijp dat wissen niet ongedaan kan worden.').check();
  await page.getByRole('button', { name: 'Wis al mijn gegevens' }).click();
  await page.getByRole('heading', { name: 'Uw gegevens zijn gewist', level: 1 }).waitFor();
  await checkPage(page, 'erased');
  const [download] = await Promise.all([page.waitForEvent('download'),
                                        page.getByRole('link', { name: 'Bewijs downloaden' }).click()]);
  const jws = fs.readFileSync(await download.path(), 'utf8').trim();
  const parts = jws.split('.');
  assert.equal(parts.length, 3, 'the erasure receipt is a compact JWS');
  const receipt = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  assert.equal(receipt.receiptType, 'erasure (GDPR Art. 17)');
  assert.deepEqual(receipt.kept, [], 'she was never invoiced: nothing is kept');
  // Signed out; and her address no longer brings a sign-in link.
  await page.goto(base + '/my');
  assert.equal(new URL(page.url()).pathname, '/');
  const since = Date.now();
  await page.getByLabel('Uw e-mailadres').fill(env.ERASE_EMAIL);
  await page.getByRole('button', { name: 'Stuur mij een inloglink' }).click();
  await page.getByRole('heading', { name: 'Kijk in uw e-mail' }).waitFor();
  await assert.rejects(signInLink(env.ERASE_EMAIL, since), /no sign-in mail/);
  await ctx.close();
});

// An erasure made elsewhere (here by the operator, as the contact centre would) signs the
// customer out of the portal too: the portal follows the erasure feed.
test('an erasure made by phone ends the customer\'s portal session', async () => {
  const ctx = await newContext();
  const page = await ctx.newPage();
  await signIn(page, env.OTHER_CUSTOMER_EMAIL);
  execFileSync(env.CDPCTL, [
    `--tls_cert=${env.PKI_DIR}/operator-cdpctl.crt`, `--tls_key=${env.PKI_DIR}/operator-cdpctl.key`,
    `--tls_ca=${env.PKI_DIR}/ca.crt`, `--target=${env.RIGHTS_TARGET}`, 'rights', 'erase', env.OTHER_CUSTOMER_ID,
    '--channel=phone', '--acting_party=human_agent:agent-7'], { encoding: 'utf8' });
  let path = '/my';
  for (let i = 0; i < 100 && path !== '/'; i++) {
    await page.goto(base + '/my');
    path = new URL(page.url()).pathname;
    if (path !== '/') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(path, '/', 'signed out once the portal learnt of the erasure');
  await ctx.close();
});
