import { upstreamChoices } from '../federation/choices.js';
import type { ProviderMetadata } from '../federation/provider-metadata.js';
import type { AuthorizationOutcome } from '../oauth/authorization-flow.js';
import type { ConsentDenialReason, ConsentOutput } from '../policy/entrypoints.js';
import { scopeSentence } from '../oauth/scopes.js';
import { OBSERVATION_CATEGORIES } from '../smart/scope-sentences.js';
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
  return {
    page: 'consent',
    title: 'Allow access?',
    data: {
      client: interaction.clientName,
      email: outcome.email,
      action: `/interaction/${interaction.id}/consent`,
      csrf: interaction.csrf,
      ask: shown.map((name) => ({ name, description: scopeSentence(name), mandatory: consent.mandatory.includes(name), offline: name === 'offline_access', categories: categoriesOf(consent, name) })),
      granted: reconsent ? [] : consent.granted.map((name) => ({ name, description: scopeSentence(name) })),
      denied: consent.denied.map((d) => ({ scope: d.scope, reason: DENIAL_REASONS[d.reason] })),
    },
  };
}

/** Why a scope is not offered, in words. */
const DENIAL_REASONS: Record<ConsentDenialReason, string> = {
  unknown_scope: 'not a scope this server knows',
  malformed_scope: 'not a well-formed SMART scope',
  not_allowed_for_client: 'this app is not registered for it',
  requires_user: 'needs a person signed in',
  requires_no_user: 'only for a service acting on its own',
  requires_practitioner: 'only for care providers',
  no_patient_in_context: 'no patient record was chosen',
  patient_not_in_compartment: 'not a patient record you may reach',
  requires_fhir_user: 'your account has no health record identity',
};

/** The categories a scope may be narrowed to, as checkboxes (`<scope> <code>`), none ticked: no tick keeps the whole scope. */
function categoriesOf(consent: ConsentOutput, scope: string) {
  const offered = consent.categories.find((c) => c.scope === scope);
  return (offered?.codes ?? []).map((code) => ({ value: `${scope} ${code}`, label: OBSERVATION_CATEGORIES[code] ?? code }));
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
