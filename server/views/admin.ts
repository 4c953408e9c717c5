import type { ClientOverview } from '../oauth/token-administration.js';

const DONE: Record<string, string> = {
  'token-revoked': 'The token was revoked.',
  'grant-revoked': 'The grant and its tokens were revoked.',
  'client-revoked': 'Everything issued to the client was revoked.',
};

/** The admin page's notice for a `done` query value it set itself; anything else shows none. */
export function adminDoneMessage(done: unknown): string | undefined {
  return typeof done === 'string' ? DONE[done] : undefined;
}

/** A time as the admin page shows it: UTC, to the minute. */
const shown = (at: Date | undefined) => (at ? `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—');

/** The data of views/pages/admin.hbs: counts and one row per grant and token of each client. */
export function adminPage(clients: ClientOverview[], extras: { email?: string; csrf: string; done?: string }): Record<string, unknown> {
  return {
    ...extras,
    clients: clients.map((client) => ({
      clientId: client.clientId,
      name: client.name,
      grantCount: client.grants.length,
      accessCount: client.tokens.filter((t) => t.kind === 'access').length,
      refreshCount: client.tokens.filter((t) => t.kind === 'refresh').length,
      grants: client.grants.map((g) => ({ id: g.id, account: g.account, scopes: g.scopes.join(' '), issued: shown(g.issuedAt), expires: shown(g.expiresAt) })),
      tokens: client.tokens.map((t) => ({ kind: t.kind, id: t.id, account: t.account ?? '(the client itself)', scopes: t.scopes.join(' '), issued: shown(t.issuedAt), expires: shown(t.expiresAt) })),
    })),
  };
}
