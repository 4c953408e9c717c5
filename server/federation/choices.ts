import type { Services } from '../http/services.js';

/** "Log in with …" choices for a page; `base` is the path of the interaction the choice continues. */
export function upstreamChoices(services: Pick<Services, 'upstream'>, base: string) {
  return services.upstream.list().map((provider) => ({
    id: provider.id,
    name: provider.displayName,
    logoUri: provider.logoUri,
    href: `${base}/federation/${encodeURIComponent(provider.id)}`,
  }));
}

/** The account page's "Linked identities": what is linked, and the providers offering a link. */
export async function identitiesOf(services: Pick<Services, 'upstream' | 'identities'>, accountId: string) {
  const linked = await services.identities.ofAccount(accountId);
  return {
    identities: linked.map((identity) => ({
      id: identity._id,
      provider: services.upstream.provider(identity.providerId)?.displayName ?? identity.providerId,
      email: identity.email,
      since: identity.linkedAt.toISOString().slice(0, 10),
    })),
    linkable: services.upstream.list().map((provider) => ({ id: provider.id, name: provider.displayName })),
  };
}
