import { hashPassword, passwordProblem } from '../crypto/password.js';
import { DuplicateKeyError, type Store } from '../store/port.js';
import { Accounts, normalizeEmail, type AccountDocument } from '../store/repositories/accounts.js';
import { Tokens } from '../store/repositories/tokens.js';
import { Sessions } from '../store/repositories/sessions.js';
import { isFhirId, parseFhirUser } from '../smart/fhir-user.js';

/** A refused account change, in one plain sentence for the operator or the patient. */
export class AccountError extends Error {
  override readonly name = 'AccountError';
}

/** A plausible email address: something@domain.tld, no spaces. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The roles an operator can grant; what each allows is decided in policy. */
export const ROLES = ['admin'];

/**
 * The operator's account administration (scripts/accounts.ts) over the configured store:
 * create, list, disable, enable, reset a password; an account's FHIR identity (a patient, or a
 * practitioner with the patient compartments it may reach) and its roles. Disabling ends the account's sessions and
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

  /** `Patient/<id>` or `Practitioner/<id>`, or `none` to remove the FHIR identity (and the patient list with it). */
  async setFhirUser(email: string, reference: string): Promise<AccountDocument> {
    const account = await this.existing(email);
    if (reference === 'none') {
      await this.accounts.clearFhirIdentity(account._id);
    } else {
      const parsed = parseFhirUser(reference);
      if (!parsed) throw new AccountError(`${reference} is not Patient/<id> or Practitioner/<id> (an id is 1 to 64 letters, digits, - or .)`);
      await this.accounts.change(account._id, parsed.resourceType === 'Patient' && account.patients ? { fhirUser: reference, patients: [] } : { fhirUser: reference });
    }
    return this.existing(email);
  }

  /** Lets a practitioner reach one more patient's compartment (a bare FHIR id, e.g. `alice`). */
  async addPatient(email: string, patientId: string): Promise<AccountDocument> {
    const account = await this.practitioner(email);
    if (!isFhirId(patientId)) throw new AccountError(`${patientId} is not a FHIR id (1 to 64 letters, digits, - or .)`);
    const patients = account.patients ?? [];
    if (!patients.includes(patientId)) await this.accounts.change(account._id, { patients: [...patients, patientId] });
    return this.existing(email);
  }

  async removePatient(email: string, patientId: string): Promise<AccountDocument> {
    const account = await this.practitioner(email);
    if (!account.patients?.includes(patientId)) throw new AccountError(`${account.email} has no patient ${patientId}`);
    await this.accounts.change(account._id, { patients: account.patients.filter((id) => id !== patientId) });
    return this.existing(email);
  }

  async grantRole(email: string, role: string): Promise<AccountDocument> {
    const account = await this.existing(email);
    if (!ROLES.includes(role)) throw new AccountError(`there is no role ${role}; the roles are ${ROLES.join(', ')}`);
    const roles = account.roles ?? [];
    if (!roles.includes(role)) await this.accounts.change(account._id, { roles: [...roles, role] });
    return this.existing(email);
  }

  /** Revoking a role ends the account's sessions, so nothing signed in keeps what the role allowed. */
  async revokeRole(email: string, role: string): Promise<AccountDocument> {
    const account = await this.existing(email);
    if (!account.roles?.includes(role)) throw new AccountError(`${account.email} does not have the role ${role}`);
    await this.accounts.change(account._id, { roles: account.roles.filter((r) => r !== role) });
    await this.sessions.endAllFor(account._id);
    return this.existing(email);
  }

  private async practitioner(email: string): Promise<AccountDocument> {
    const account = await this.existing(email);
    if (!account.fhirUser?.startsWith('Practitioner/')) {
      throw new AccountError(`${account.email} is not a practitioner; set-fhir-user ${account.email} Practitioner/<id> first (a patient reaches only its own compartment)`);
    }
    return account;
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
