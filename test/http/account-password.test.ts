import { BrowserlessUser, DEMO_EMAIL, formOf, hiddenFields, textOf, type Page } from '../support/browserless-user.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { createAccount } from '../uma/sharing-support.js';

/** The password change on the account page, over HTTP with cookies, as a person's browser does it. */
describe.each(storeBackends)('changing the password on the account page on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.stop());

  const signedIn = async (email: string, password = DEMO_PASSWORD) => {
    const user = new BrowserlessUser(server.url);
    expect((await user.signIn(email, password)).location?.pathname).toBe('/account');
    return user;
  };
  const change = async (user: BrowserlessUser, fields: { current: string; next: string; confirm?: string }): Promise<Page> => {
    const form = formOf(await user.get('/account'), /^\/account\/password$/);
    return user.post(form.action, [
      ...hiddenFields(form),
      ['current_password', fields.current],
      ['new_password', fields.next],
      ['confirm_password', fields.confirm ?? fields.next],
    ]);
  };
  const NEW_PASSWORD = 'a much longer passphrase';

  test('refuses a wrong current password, a mismatched confirmation and a short password, re-rendering the page', async () => {
    const user = await signedIn(DEMO_EMAIL);
    const cases: [Parameters<typeof change>[1], number, string][] = [
      [{ current: 'not my password', next: NEW_PASSWORD }, 401, 'Your current password is not right.'],
      [{ current: '', next: NEW_PASSWORD }, 401, 'Your current password is not right.'],
      [{ current: DEMO_PASSWORD, next: NEW_PASSWORD, confirm: `${NEW_PASSWORD}!` }, 400, 'The new password and its confirmation differ.'],
      [{ current: DEMO_PASSWORD, next: 'short pw' }, 400, 'The password must have at least 12 characters.'],
    ];
    for (const [fields, status, message] of cases) {
      const page = await change(user, fields);
      expect(page.status).toBe(status);
      expect(textOf(page.html)).toContain(message);
      expect(formOf(page, /^\/account\/password$/)).toBeDefined();
    }
    expect((await new BrowserlessUser(server.url).signIn(DEMO_EMAIL, DEMO_PASSWORD)).location?.pathname).toBe('/account');
  });

  test('refuses a form without the CSRF token, and a visitor without a session', async () => {
    const user = await signedIn(DEMO_EMAIL);
    const forged = await user.post('/account/password', { current_password: DEMO_PASSWORD, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD });
    expect(forged.status).toBe(403);
    const stranger = await new BrowserlessUser(server.url).post('/account/password', { current_password: DEMO_PASSWORD, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD });
    expect(stranger.location?.pathname).toBe('/login');
    expect((await new BrowserlessUser(server.url).signIn(DEMO_EMAIL, DEMO_PASSWORD)).location?.pathname).toBe('/account');
  });

  test('wrong current passwords are throttled like failed sign-ins', async () => {
    await createAccount(server.services, 'throttled@example.org');
    const user = await signedIn('throttled@example.org');
    for (let attempt = 0; attempt < 5; attempt++) expect((await change(user, { current: `guess ${attempt}`, next: NEW_PASSWORD })).status).toBe(401);
    const throttled = await change(user, { current: DEMO_PASSWORD, next: NEW_PASSWORD });
    expect(throttled.status).toBe(429);
    expect(textOf(throttled.html)).toMatch(/Too many failed attempts\. Try again in \d+ seconds\./);
  });

  test('a change keeps this session, ends every other one, and only the new password signs in', async () => {
    await createAccount(server.services, 'changer@example.org');
    const here = await signedIn('changer@example.org');
    const elsewhere = await signedIn('changer@example.org');
    const done = await change(here, { current: DEMO_PASSWORD, next: NEW_PASSWORD });
    expect(done.status).toBe(303);
    const page = await here.follow(done);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('Your password was changed. Every other session of this account was signed out.');
    expect((await elsewhere.get('/account')).location?.pathname).toBe('/login');
    expect((await here.get('/account')).status).toBe(200);
    expect((await new BrowserlessUser(server.url).signIn('changer@example.org', DEMO_PASSWORD)).status).toBe(401);
    expect((await new BrowserlessUser(server.url).signIn('changer@example.org', NEW_PASSWORD)).location?.pathname).toBe('/account');
  });
});
