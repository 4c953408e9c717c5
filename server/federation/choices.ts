import type { Identities } from '../store/repositories/identities.js';
import type { ProviderMetadata } from './provider-metadata.js';

/** "Log in with …" choices for a page; `base` is the path of the interaction the choice continues. */
export function upstreamChoices(deps: { upstream: ProviderMetadata }, base: string) {
  return deps.upstream.list().map((provider) => ({
    id: provider.id,
    name: provider.displayName,
    logoUri: provider.logoUri,
    href: `${base}/federation/${encodeURIComponent(provider.id)}`,
  }));
}

/** The account page's "Linked identities": what is linked, and the providers offering a link. */
export async function identitiesOf(deps: { upstream: ProviderMetadata; identities: Identities }, accountId: string) {
  const linked = await deps.identities.ofAccount(accountId);
  return {
    identities: linked.map((identity) => ({
      id: identity._id,
      provider: deps.upstream.provider(identity.providerId)?.displayName ?? identity.providerId,
      email: identity.email,
      since: identity.linkedAt.toISOString().slice(0, 10),
    })),
    linkable: deps.upstream.list().map((provider) => ({ id: provider.id, name: provider.displayName })),
  };
}
