import type { DecisionLog } from '../policy/decision-log.js';
import type { AccessInput } from '../policy/entrypoints.js';
import { accessDenied, notFound } from '../protocol/errors.js';
import type { AccountDocument, Accounts } from '../store/repositories/accounts.js';
import type { Clients } from '../store/repositories/clients.js';
import type { GrantDocument } from '../store/repositories/grants.js';
import type { AccessTokenDocument, RefreshTokenDocument } from '../store/repositories/tokens.js';
import { revokeClientIssuance, type ClientIssuance } from './clients/client-revocation.js';

export interface TokenAdministrationDeps extends ClientIssuance {
  decisions: Pick<DecisionLog, 'decide'>;
  clients: Pick<Clients, 'all' | 'byId'>;
  accounts: Pick<Accounts, 'byId'>;
}

export type TokenKind = 'access' | 'refresh';

/** One live token as the admin page lists it. */
export interface TokenRow {
  kind: TokenKind;
  /** The access token's `jti`, or the refresh token's stored hash (never the token itself). */
  id: string;
  account?: string;
  scopes: string[];
  issuedAt: Date;
  expiresAt: Date;
}

/** One grant as the admin page lists it: `expiresAt` is when its last live token expires, if any. */
export interface GrantRow {
  id: string;
  account: string;
  scopes: string[];
  issuedAt: Date;
  expiresAt?: Date;
}

export interface ClientOverview {
  clientId: string;
  name: string;
  grants: GrantRow[];
  tokens: TokenRow[];
}

/** The `access` entrypoint's facts about an account asking to administer tokens. */
export function tokenAdministrationInput(account: AccountDocument, now: Date): AccessInput {
  return { api: 'token_administration', now: now.toISOString(), account: { sub: account._id, roles: account.roles ?? [] } };
}

/** The access policy's answer (a recorded decision): may this account administer tokens? */
async function administrationDecision(deps: Pick<TokenAdministrationDeps, 'decisions' | 'accounts'>, accountId: string) {
  const account = await deps.accounts.byId(accountId);
  if (!account) return { allow: false, reason: 'the account is gone' };
  return (await deps.decisions.decide('access', tokenAdministrationInput(account, new Date()))).result;
}

/** Whether the account may see the token administration page (the account page links it then). */
export async function mayAdministerTokens(deps: Pick<TokenAdministrationDeps, 'decisions' | 'accounts'>, accountId: string): Promise<boolean> {
  return (await administrationDecision(deps, accountId)).allow;
}

/** Refuses (403 access_denied) unless the access policy lets this account administer tokens. */
export async function requireTokenAdministrator(deps: Pick<TokenAdministrationDeps, 'decisions' | 'accounts'>, accountId: string): Promise<void> {
  const decision = await administrationDecision(deps, accountId);
  if (!decision.allow) throw accessDenied(decision.reason);
}

/** Every client with its grants and live (unrevoked, unexpired, unrotated) tokens. */
export async function issuanceOverview(deps: TokenAdministrationDeps): Promise<ClientOverview[]> {
  const [clients, grants, access, refresh] = await Promise.all([
    deps.clients.all(),
    deps.grants.all(),
    deps.tokens.accessTokens.live(),
    deps.tokens.refreshTokens.live(),
  ]);
  const tokens = [...access.map((t) => tokenRow('access', t)), ...refresh.map((t) => tokenRow('refresh', t))];
  const emails = await accountEmails(deps, [...grants.map((g) => g.accountId), ...tokens.flatMap((t) => (t.row.account ? [t.row.account] : []))]);
  const named = (accountId: string | undefined) => (accountId === undefined ? undefined : (emails.get(accountId) ?? accountId));
  return clients.map((client) => ({
    clientId: client._id,
    name: client.metadata.client_name ?? client._id,
    grants: grants.filter((g) => g.clientId === client._id).map((g) => grantRow(g, named(g.accountId)!, tokens)),
    tokens: tokens.filter((t) => t.clientId === client._id).map((t) => ({ ...t.row, ...(t.row.account ? { account: named(t.row.account) } : {}) })),
  }));
}

interface ListedToken {
  clientId: string;
  grantId?: string;
  row: TokenRow;
}

function tokenRow(kind: TokenKind, token: AccessTokenDocument | RefreshTokenDocument): ListedToken {
  return {
    clientId: token.clientId,
    ...(token.grantId !== undefined ? { grantId: token.grantId } : {}),
    row: { kind, id: token._id, ...(token.accountId !== undefined ? { account: token.accountId } : {}), scopes: token.scopes, issuedAt: token.issuedAt, expiresAt: token.expiresAt },
  };
}

function grantRow(grant: GrantDocument, account: string, tokens: ListedToken[]): GrantRow {
  const expiries = tokens.filter((t) => t.grantId === grant._id).map((t) => t.row.expiresAt.getTime());
  return { id: grant._id, account, scopes: grant.scopes, issuedAt: grant.createdAt, ...(expiries.length > 0 ? { expiresAt: new Date(Math.max(...expiries)) } : {}) };
}

async function accountEmails(deps: Pick<TokenAdministrationDeps, 'accounts'>, ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const accounts = await Promise.all(unique.map((id) => deps.accounts.byId(id)));
  return new Map(unique.flatMap((id, i) => (accounts[i] ? [[id, accounts[i].email] as [string, string]] : [])));
}

/** Revokes one live token; an unknown, expired or already revoked one is 404. */
export async function revokeTokenById(deps: Pick<TokenAdministrationDeps, 'tokens'>, kind: TokenKind, id: string): Promise<void> {
  if (kind === 'refresh') {
    if (!(await deps.tokens.refreshTokens.revokeOne(id))) throw notFound('no live refresh token with this id');
    return;
  }
  const record = await deps.tokens.accessTokens.byJti(id);
  if (!record || record.revokedAt) throw notFound('no live access token with this id');
  await deps.tokens.accessTokens.revokeOne(id);
}

/** Takes back a grant: its tokens revoked, the grant gone (the app asks the user again). */
export async function revokeGrantById(deps: Pick<TokenAdministrationDeps, 'tokens' | 'grants'>, grantId: string): Promise<void> {
  if (!(await deps.grants.byId(grantId))) throw notFound('no grant with this id');
  await deps.tokens.revoke({ grantId });
  await deps.grants.remove(grantId);
}

/** Everything a client was issued (server/oauth/clients/client-revocation.ts); the client stays registered. */
export async function revokeIssuanceOf(deps: TokenAdministrationDeps, clientId: string): Promise<void> {
  if (!(await deps.clients.byId(clientId))) throw notFound('no client with this id');
  await revokeClientIssuance(deps, clientId);
}
