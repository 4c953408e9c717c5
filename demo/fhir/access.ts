import { patientOf, type FhirResource } from './resources.js';
import { resourceScopes, scopesFor, withinCategories, type ResourceScope } from './scopes.js';

/** What Assent's introspection said about a token (RFC 7662 plus the SMART members Assent adds). */
export interface Introspection {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  exp?: number;
  patient?: string;
  fhirUser?: string;
}

export type Verdict = { allowed: true } | { allowed: false; error: 'insufficient_scope' | 'access_denied'; scope?: string };

/**
 * Enforcement of Assent's answer, not a policy of its own: a resource is shown when a granted
 * scope covers its type, interaction and category, and the resource lies in a compartment that
 * scope reaches — `patient/` the patient in context, `user/` the user's own Patient compartment
 * (fhirUser) or else the patient in context, `system/` every compartment. Whether a token may have
 * those scopes and that context was Assent's decision; deciding more here (sharing rules,
 * security labels) moves into Assent's policy with AuthZEN.
 */
export class Access {
  private readonly scopes: ResourceScope[];

  constructor(private readonly token: Introspection) {
    this.scopes = resourceScopes(token.scope ?? '');
  }

  /** Whether any granted scope allows the interaction on the type at all (else 403 insufficient_scope). */
  allowsType(resourceType: string, interaction: 'r' | 's'): Verdict {
    if (scopesFor(this.scopes, resourceType, interaction).length > 0) return { allowed: true };
    return { allowed: false, error: 'insufficient_scope', scope: `patient/${resourceType}.${interaction}` };
  }

  /** Whether this resource may be shown for the interaction. */
  allows(resource: FhirResource, interaction: 'r' | 's'): boolean {
    const patient = patientOf(resource);
    const reaching = scopesFor(this.scopes, resource.resourceType, interaction).filter((s) => this.reaches(s, patient));
    return withinCategories(reaching, resource);
  }

  /** The patient a search without a `patient` parameter is limited to (undefined: no limit, `system/`). */
  defaultPatient(): string | undefined {
    return this.token.patient ?? this.ownPatient();
  }

  private reaches(scope: ResourceScope, patient: string | undefined): boolean {
    if (scope.context === 'system') return true;
    if (patient === undefined) return false;
    if (scope.context === 'patient') return patient === this.token.patient;
    return patient === (this.ownPatient() ?? this.token.patient);
  }

  /** The user's own patient id when fhirUser is a Patient (relative or absolute reference). */
  private ownPatient(): string | undefined {
    return /(?:^|\/)Patient\/([^/]+)$/.exec(this.token.fhirUser ?? '')?.[1];
  }
}
