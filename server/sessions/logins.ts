import { verifyPassword } from '../crypto/password.js';
import type { DemoCredentialsFile } from '../demo-credentials.js';
import type { Accounts } from '../store/repositories/accounts.js';
import type { FailureCounter } from '../throttle/failure-counter.js';

export type LoginOutcome = { ok: true; accountId: string } | { ok: false; status: 401 | 403 | 429; message: string };

/**
 * Local email + password sign-in, throttled per account and per client IP: after a few failures
 * each further attempt waits exponentially longer. Answers never reveal whether the email exists.
 */
export class Logins {
  constructor(
    private readonly accounts: Accounts,
    private readonly perAccount: FailureCounter,
    private readonly perIp: FailureCounter,
    private readonly demoCredentials: DemoCredentialsFile,
  ) {}

  async attempt(ip: string, email: string, password: string): Promise<LoginOutcome> {
    const [account, address] = await Promise.all([this.perAccount.check(email), this.perIp.check(ip)]);
    const retryAfter = Math.max(account.retryAfter, address.retryAfter);
    if (retryAfter > 0) return { ok: false, status: 429, message: `Too many failed attempts. Try again in ${retryAfter} seconds.` };

    const found = email ? await this.accounts.byEmail(email) : null;
    const valid = found?.passwordHash ? await verifyPassword(password, found.passwordHash) : await wasteTime(password);
    if (!found || !valid) {
      await Promise.all([this.perAccount.record(email), this.perIp.record(ip)]);
      return { ok: false, status: 401, message: 'Wrong email or password.' };
    }
    await this.perAccount.clear(email);
    // Said only to whoever knows the password: it does not reveal which emails have accounts.
    if (found.disabled) return { ok: false, status: 403, message: 'This account is disabled. Ask the operator of this server to enable it.' };
    await this.demoCredentials.signedIn(found.email);
    return { ok: true, accountId: found._id };
  }
}

/** Spends what a real check costs, so response time does not tell which emails have accounts. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
async function wasteTime(password: string) {
  await verifyPassword(password, DUMMY_HASH);
  return false;
}
