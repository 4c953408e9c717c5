import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

const VIEWS = path.dirname(fileURLToPath(import.meta.url));

export type PageName = 'login' | 'consent' | 'claims' | 'error' | 'account' | 'logout' | 'message' | 'sharing' | 'sharing-decision' | 'patient-picker' | 'admin';

/** Server-rendered pages: every template compiled once at start-up, escaped by default, no scripts. */
export class Views {
  private readonly layout: Handlebars.TemplateDelegate;
  private readonly pages = new Map<string, Handlebars.TemplateDelegate>();
  readonly stylesheet = readFileSync(path.join(VIEWS, 'static/assent.css'), 'utf8');

  constructor() {
    const handlebars = Handlebars.create();
    this.layout = handlebars.compile(readFileSync(path.join(VIEWS, 'layout.hbs'), 'utf8'), { strict: false });
    for (const file of readdirSync(path.join(VIEWS, 'pages'))) {
      this.pages.set(path.basename(file, '.hbs'), handlebars.compile(readFileSync(path.join(VIEWS, 'pages', file), 'utf8')));
    }
  }

  render(page: PageName, title: string, data: Record<string, unknown>): string {
    const template = this.pages.get(page);
    if (!template) throw new Error(`no page template ${page}`);
    return this.layout({ title, body: template(data) });
  }
}
