import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SeedCredentials } from './seeds.js';

/**
 * The generated credentials of the demo data, kept in `<dataDir>/demo-credentials.txt` (mode 0600)
 * from seeding until a demo account first signs in with them, so a first start that fails after
 * seeding (port in use) does not lock the newcomer out: every start prints the file while it exists.
 */
export class DemoCredentialsFile {
  /** Known to be absent: no sign-in needs to look at the disk again. */
  private gone = false;

  constructor(readonly file: string) {}

  static in(dataDir: string) {
    return new DemoCredentialsFile(path.join(dataDir, 'demo-credentials.txt'));
  }

  async write(seeded: SeedCredentials): Promise<void> {
    if (seeded.passwords.length === 0 && seeded.clientSecrets.length === 0) return;
    const lines = ['Demo credentials (deleted when a demo account first signs in):'];
    for (const p of seeded.passwords) lines.push(`  account ${p.email}  password: ${p.generated ? p.password : '(ASSENT_DEMO_PASSWORD)'}`);
    for (const c of seeded.clientSecrets) lines.push(`  client  ${c.clientId}  secret: ${c.secret}`);
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFile(this.file, `${lines.join('\n')}\n`, { mode: 0o600 });
    // `mode` applies only when the file is created; one left by an earlier start keeps its own.
    await chmod(this.file, 0o600);
    this.gone = false;
  }

  /** The file's text, or undefined once it is gone. */
  async read(): Promise<string | undefined> {
    if (this.gone) return undefined;
    try {
      return await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.gone = true;
      return undefined;
    }
  }

  /** A successful password sign-in: the first one of a demo account deletes the file. */
  async signedIn(email: string): Promise<void> {
    const text = await this.read();
    if (!text?.split('\n').some((line) => line.startsWith(`  account ${email} `))) return;
    await rm(this.file, { force: true });
    this.gone = true;
  }
}
