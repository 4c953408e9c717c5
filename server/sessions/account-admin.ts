import { hashPassword, passwordProblem } from '../crypto/password.js';
import { DuplicateKeyError, type Store } from '../store/port.js';
import { Accounts, normalizeEmail, type AccountDocument } from '../store/repositories/accounts.js';
import { Tokens } from '../store/repositories/tokens.js';
import { Sessions } from '../store/repositories/sessions.js';

/** A refused account change, in one plain sentence for the operator or the patient. */
export class AccountError extends Error {
  override readonly name = 'AccountError';
}

/** A plausible email address: something@domain.tld, no spaces. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The operator's account administration (scripts/accounts.ts) over the configured store:
 * create, list, disable, enable, reset a password. Disabling ends the account's sessions and
 * revokes its tokens; its grants, sharing rules and linked identities stay, so enabling it
 * again restores them (the apps need a new sign-in).
 */
export class AccountAdmin {
  private constructor(
    private readonly accounts: Accounts,
    private readonly sessions: Sessions,
    private readonly tokens: Tokens,
  ) {}

  static async open(store: Store) {
    return new AccountAdmin(await Accounts.open(store), await Sessions.open(store), await Tokens.open(store));
  }

  async create(email: string, name: string, password: string): Promise<AccountDocument> {
    const address = normalizeEmail(email);
    if (!EMAIL.test(address)) throw new AccountError(`${email} is not an email address`);
    refuseWeak(password);
    try {
      return await this.accounts.create({ email: address, name: name.trim() || address, emailVerified: true, passwordHash: await hashPassword(password) });
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new AccountError(`an account with the email ${address} already exists`);
      throw err;
    }
  }

  list(): Promise<AccountDocument[]> {
    return this.accounts.all();
  }

  async disable(email: string): Promise<void> {
    const account = await this.existing(email);
    await this.accounts.change(account._id, { disabled: true });
    await this.sessions.endAllFor(account._id);
    await this.tokens.revoke({ accountId: account._id });
  }

  async enable(email: string): Promise<void> {
    await this.accounts.change((await this.existing(email))._id, { disabled: false });
  }

  /** A new password set by the operator: every session of the account ends. */
  async resetPassword(email: string, password: string): Promise<void> {
    const account = await this.existing(email);
    refuseWeak(password);
    await this.accounts.change(account._id, { passwordHash: await hashPassword(password) });
    await this.sessions.endAllFor(account._id);
  }

  private async existing(email: string): Promise<AccountDocument> {
    const account = await this.accounts.byEmail(email);
    if (!account) throw new AccountError(`there is no account with the email ${normalizeEmail(email)}`);
    return account;
  }
}

function refuseWeak(password: string) {
  const problem = passwordProblem(password);
  if (problem) throw new AccountError(problem);
}
