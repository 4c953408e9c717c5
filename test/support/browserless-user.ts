import { DEMO_PASSWORD } from './server.js';

/**
 * A person at a browser, without the browser: a cookie jar over `fetch` (redirect: 'manual') that
 * walks an authorization request the way someone would — it follows the server's redirects, fills
 * in the login form, ticks boxes on the consent page and presses Allow or Deny, always echoing the
 * CSRF token the page carried — and stops when the server sends it away to the client (the
 * redirect URI), which it never fetches.
 *
 * Cookies are kept for the server's origin only, honouring Path, Max-Age/Expires and deletion;
 * that is all the server's cookies (session, interaction binding, login CSRF) need.
 */

export const DEMO_EMAIL = 'alice@example.org';

/** One HTTP exchange as the user agent saw it; `location` is the resolved redirect target, if any. */
export interface Page {
  status: number;
  url: URL;
  headers: Headers;
  location?: URL;
  html: string;
}

export interface FormInput {
  tag: 'input' | 'button';
  type: string;
  name?: string;
  value: string;
  checked: boolean;
  disabled: boolean;
}

export interface HtmlForm {
  action: URL;
  method: string;
  inputs: FormInput[];
}

export interface AuthorizeOptions {
  /** Credentials typed into the login form (default: the demo patient). */
  email?: string;
  password?: string;
  /** Optional scopes to leave ticked on the consent page; default: as the page shows them (all ticked). */
  scopes?: string[];
  /** Which consent button to press (default allow). */
  decision?: 'allow' | 'deny';
}

export interface AuthorizationResult {
  /** Where the server finally sent the browser outside itself (the client's redirect URI), if it did. */
  callback?: URL;
  /** The interactive pages the user went through, in order. */
  seen: ('login' | 'consent')[];
  /** The last response (an error page or a login page with an error when there is no callback). */
  page: Page;
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  expires?: number;
}

type FormBody = URLSearchParams | Record<string, string | string[]> | [string, string][];

export class BrowserlessUser {
  private readonly jar = new Map<string, StoredCookie>();
  readonly origin: string;

  constructor(serverUrl: string) {
    this.origin = new URL(serverUrl).origin;
  }

  /** GET a path of the server or an absolute URL. */
  get(target: string | URL, headers: Record<string, string> = {}): Promise<Page> {
    return this.send(target, { method: 'GET', headers });
  }

  /** POST an application/x-www-form-urlencoded form. */
  post(target: string | URL, form: FormBody, headers: Record<string, string> = {}): Promise<Page> {
    const body = form instanceof URLSearchParams ? form : new URLSearchParams(toPairs(form));
    return this.send(target, { method: 'POST', body: body.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers } });
  }

  /** Any request, with this user's cookies; the response's cookies are kept. */
  async send(target: string | URL, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Page> {
    const url = new URL(target, this.origin);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
    const response = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body, redirect: 'manual' });
    if (url.origin === this.origin) for (const line of response.headers.getSetCookie()) this.store(line);
    const location = response.headers.get('location');
    return {
      status: response.status,
      url,
      headers: response.headers,
      ...(location ? { location: new URL(location, url) } : {}),
      html: await response.text(),
    };
  }

  /** Follows redirects within the server; stops at a page, or at a redirect that leaves the server. */
  async follow(page: Page): Promise<Page> {
    let current = page;
    for (let hops = 0; hops < 10; hops++) {
      if (!current.location || current.status < 300 || current.status >= 400 || current.location.origin !== this.origin) return current;
      current = await this.get(current.location);
    }
    throw new Error('too many redirects');
  }

  /** Opens an authorization URL and goes through login and consent as asked, up to the redirect back to the client. */
  async authorize(url: string | URL, options: AuthorizeOptions = {}): Promise<AuthorizationResult> {
    const seen: AuthorizationResult['seen'] = [];
    let page = await this.follow(await this.get(url));
    for (;;) {
      if (page.location && page.location.origin !== this.origin) return { callback: page.location, seen, page };
      const form = page.status === 200 ? formOf(page) : undefined;
      const kind = form?.action.pathname.match(/\/(login|consent)$/)?.[1] as 'login' | 'consent' | undefined;
      if (!form || !kind || seen.includes(kind)) return { seen, page };
      seen.push(kind);
      const fields = kind === 'login' ? loginFields(form, options) : consentFields(form, options);
      page = await this.follow(await this.post(form.action, fields));
    }
  }

  /** Like `authorize`, but insists on ending at the client with a code; returns the callback URL. */
  async authorizeForCode(url: string | URL, options: AuthorizeOptions = {}): Promise<URL> {
    const result = await this.authorize(url, options);
    if (!result.callback?.searchParams.get('code')) {
      throw new Error(`authorization did not return a code: ${result.callback ?? `${result.page.status} ${textOf(result.page.html)}`}`);
    }
    return result.callback;
  }

  /** Signs in on the account login page (/login); the answer to the form post (303 to /account on success). */
  async signIn(email: string, password: string): Promise<Page> {
    const form = formOf(await this.get('/login'), /^\/login$/);
    return this.post(form.action, [...hiddenFields(form), ['email', email], ['password', password]]);
  }

  /** The value of a cookie this user agent holds (any path). */
  cookie(name: string): string | undefined {
    this.expire();
    return [...this.jar.values()].find((c) => c.name === name)?.value;
  }

  cookieNames(): string[] {
    this.expire();
    return [...this.jar.values()].map((c) => c.name);
  }

  /** Forgets cookies whose name starts with the prefix (all when none given). */
  forget(prefix = ''): void {
    for (const [key, cookie] of this.jar) if (cookie.name.startsWith(prefix)) this.jar.delete(key);
  }

  private cookieHeader(url: URL): string {
    if (url.origin !== this.origin) return '';
    this.expire();
    return [...this.jar.values()]
      .filter((c) => pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(line: string) {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const cookie: StoredCookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), path: '/' };
    for (const attribute of attributes) {
      const [key = '', ...rest] = attribute.split('=');
      const value = rest.join('=');
      switch (key.toLowerCase()) {
        case 'path':
          cookie.path = value || '/';
          break;
        case 'max-age':
          cookie.expires = Date.now() + Number(value) * 1000;
          break;
        case 'expires':
          cookie.expires ??= Date.parse(value);
          break;
      }
    }
    const key = `${cookie.name};${cookie.path}`;
    if (cookie.value === '' || (cookie.expires !== undefined && cookie.expires <= Date.now())) this.jar.delete(key);
    else this.jar.set(key, cookie);
  }

  private expire() {
    const now = Date.now();
    for (const [key, cookie] of this.jar) if (cookie.expires !== undefined && cookie.expires <= now) this.jar.delete(key);
  }
}

/** Every form of a page, with its inputs and buttons, attribute values unescaped. */
export function formsOf(page: Page): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const match of page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attributes = attributesOf(match[1] ?? '');
    const inputs: FormInput[] = [];
    for (const control of (match[2] ?? '').matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const tag = control[1]!.toLowerCase() as 'input' | 'button';
      const a = attributesOf(control[2] ?? '');
      inputs.push({
        tag,
        type: (a.type ?? (tag === 'button' ? 'submit' : 'text')).toLowerCase(),
        ...(a.name !== undefined ? { name: a.name } : {}),
        value: a.value ?? '',
        checked: 'checked' in a,
        disabled: 'disabled' in a,
      });
    }
    forms.push({ action: new URL(attributes.action ?? page.url.href, page.url), method: (attributes.method ?? 'get').toLowerCase(), inputs });
  }
  return forms;
}

/** The page's one POST form (throws when there is none). */
export function formOf(page: Page, action?: RegExp): HtmlForm {
  const form = formsOf(page).find((f) => f.method === 'post' && (!action || action.test(f.action.pathname)));
  if (!form) throw new Error(`no POST form${action ? ` for ${action}` : ''} on ${page.url.pathname} (${page.status}): ${textOf(page.html)}`);
  return form;
}

/** The hidden fields of a form (csrf and friends), as a submission would carry them. */
export function hiddenFields(form: HtmlForm): [string, string][] {
  return form.inputs.filter((i) => i.tag === 'input' && i.type === 'hidden' && i.name && !i.disabled).map((i) => [i.name!, i.value]);
}

/** The CSRF token a form carries. */
export function csrfOf(form: HtmlForm): string {
  const csrf = form.inputs.find((i) => i.name === 'csrf')?.value;
  if (!csrf) throw new Error(`form ${form.action.pathname} carries no csrf field`);
  return csrf;
}

/** The scopes a consent form offers: optional ones as checkboxes, mandatory ones locked (hidden fields). */
export function consentChoices(form: HtmlForm): { optional: string[]; mandatory: string[] } {
  return {
    optional: form.inputs.filter((i) => i.type === 'checkbox' && i.name === 'scope' && !i.disabled).map((i) => i.value),
    mandatory: form.inputs.filter((i) => i.type === 'hidden' && i.name === 'scope').map((i) => i.value),
  };
}

/** Visible text of a page, for error messages and assertions on what a person reads. */
export function textOf(html: string): string {
  return unescapeHtml(html.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
}

function loginFields(form: HtmlForm, options: AuthorizeOptions): [string, string][] {
  const fields = hiddenFields(form);
  for (const input of form.inputs) {
    if (input.tag !== 'input' || !input.name) continue;
    if (input.type === 'email' || input.name === 'email') fields.push([input.name, options.email ?? DEMO_EMAIL]);
    else if (input.type === 'password') fields.push([input.name, options.password ?? DEMO_PASSWORD]);
  }
  return fields;
}

function consentFields(form: HtmlForm, options: AuthorizeOptions): [string, string][] {
  const fields = hiddenFields(form);
  for (const input of form.inputs) {
    if (input.type !== 'checkbox' || !input.name || input.disabled) continue;
    const ticked = options.scopes ? options.scopes.includes(input.value) : input.checked;
    if (ticked) fields.push([input.name, input.value]);
  }
  const decision = options.decision ?? 'allow';
  const button = form.inputs.find((i) => i.tag === 'button' && i.name === 'decision' && i.value === decision);
  if (!button) throw new Error(`the consent form has no ${decision} button`);
  fields.push(['decision', button.value]);
  return fields;
}

function attributesOf(source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of source.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[match[1]!.toLowerCase()] = unescapeHtml(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return out;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') return String.fromCodePoint(entity[1]?.toLowerCase() === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function toPairs(form: Exclude<FormBody, URLSearchParams>): [string, string][] {
  if (Array.isArray(form)) return form;
  return Object.entries(form).flatMap(([name, value]) => (Array.isArray(value) ? value.map((v): [string, string] => [name, v]) : [[name, value] as [string, string]]));
}
