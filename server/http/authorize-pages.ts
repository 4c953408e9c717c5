import { upstreamChoices } from '../federation/choices.js';
import type { ProviderMetadata } from '../federation/provider-metadata.js';
import type { AuthorizationOutcome } from '../oauth/authorization-flow.js';
import { SCOPE_DESCRIPTIONS } from '../oauth/scopes.js';
import type { PageName } from '../views/render.js';

/** A page to render: which template, its title, its data, its status. */
export interface PageModel {
  page: PageName;
  title: string;
  data: Record<string, unknown>;
  status?: number;
}

/** The sign-in page of an interaction, with the upstream providers it may continue through. */
export function loginPage(upstream: ProviderMetadata, outcome: AuthorizationOutcome & { kind: 'needs-login' }): PageModel {
  const { interaction } = outcome;
  const base = `/interaction/${interaction.id}`;
  return {
    page: 'login',
    title: 'Sign in',
    data: { client: interaction.clientName, action: `${base}/login`, csrf: interaction.csrf, error: outcome.failure?.message, email: outcome.email, upstream: upstreamChoices({ upstream }, base) },
    ...(outcome.failure ? { status: outcome.failure.status } : {}),
  };
}

/**
 * The consent page: the scopes to ask about (with `prompt=consent` also those granted before,
 * asked again), those granted already, and those denied with the reason.
 */
export function consentPage(outcome: AuthorizationOutcome & { kind: 'needs-consent' }): PageModel {
  const { interaction, consent, reconsent } = outcome;
  const shown = reconsent ? [...new Set([...consent.ask, ...consent.granted])].sort() : consent.ask;
  const describe = (scope: string) => SCOPE_DESCRIPTIONS[scope] ?? scope;
  return {
    page: 'consent',
    title: 'Allow access?',
    data: {
      client: interaction.clientName,
      email: outcome.email,
      action: `/interaction/${interaction.id}/consent`,
      csrf: interaction.csrf,
      ask: shown.map((name) => ({ name, description: describe(name), mandatory: consent.mandatory.includes(name) })),
      granted: reconsent ? [] : consent.granted.map((name) => ({ name, description: describe(name) })),
      denied: consent.denied.map((d) => ({ scope: d.scope, reason: d.reason === 'unknown_scope' ? 'not a scope this server knows' : 'this app is not registered for it' })),
    },
  };
}

/** The patient picker of a practitioner's standalone launch: the patients they may choose, one to pick. */
export function patientPickerPage(outcome: AuthorizationOutcome & { kind: 'needs-patient' }): PageModel {
  const { interaction } = outcome;
  return {
    page: 'patient-picker',
    title: 'Choose a patient',
    data: {
      client: interaction.clientName,
      email: outcome.email,
      action: `/interaction/${interaction.id}/patient`,
      csrf: interaction.csrf,
      patients: outcome.patients.map(({ id, name }) => ({ id, label: name ? `${name} (Patient/${id})` : `Patient/${id}` })),
    },
  };
}
