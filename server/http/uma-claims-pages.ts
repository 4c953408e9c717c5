import { upstreamChoices } from '../federation/choices.js';
import type { ProviderMetadata } from '../federation/provider-metadata.js';
import { CLAIMS_PATH } from '../store/repositories/claims-interactions.js';
import type { ClientDocument } from '../store/repositories/clients.js';
import type { ClaimsNeedsConfirm, ClaimsNeedsLogin } from '../uma/claims-interaction.js';
import type { PageName } from '../views/render.js';

/** A page of a claims interaction, as the views render it. */
export interface ClaimsPage {
  page: PageName;
  title: string;
  data: Record<string, unknown>;
  status?: number;
}

type PageDeps = { upstream: ProviderMetadata };

const clientName = (client: ClientDocument) => client.metadata.client_name ?? client._id;

/** The shared sign-in page, with the upstream "log in with …" choices. */
export function claimsLoginPage(deps: PageDeps, outcome: ClaimsNeedsLogin): ClaimsPage {
  const { interaction, client, error, email, status } = outcome;
  return {
    page: 'login',
    title: 'Sign in',
    data: { client: clientName(client), action: `${CLAIMS_PATH}/${interaction._id}/login`, csrf: interaction.csrf, error, email, upstream: upstreamChoices(deps, `${CLAIMS_PATH}/${interaction._id}`) },
    ...(status !== undefined ? { status } : {}),
  };
}

/** "Continue as …": the signed-in account whose claims would go to the client, or another. */
export function claimsConfirmPage(deps: PageDeps, { interaction, client, account }: ClaimsNeedsConfirm): ClaimsPage {
  return {
    page: 'claims',
    title: 'Confirm who you are',
    data: {
      client: clientName(client),
      email: account.email,
      name: account.name,
      account: account._id,
      action: `${CLAIMS_PATH}/${interaction._id}/confirm`,
      csrf: interaction.csrf,
      upstream: upstreamChoices(deps, `${CLAIMS_PATH}/${interaction._id}`),
    },
  };
}
