// The view models of the patient's sharing dashboard (pages/sharing.hbs) and of one explained
// decision (pages/sharing-decision.hbs): pure functions of the data the handler has read.

import type { ClaimsOutput } from '../policy/entrypoints.js';
import type { ResourceDocument } from '../store/repositories/resources.js';
import type { SharingRule } from '../store/repositories/sharing-rules.js';
import type { AccessRequestDocument } from '../store/repositories/uma-requests.js';
import type { Explanation } from '../uma/sharing/explain.js';
import type { HistoryEntry } from '../uma/sharing/history.js';
import type { Preview } from '../uma/sharing/preview.js';
import type { ActiveRpt } from '../uma/sharing/rpts.js';
import { byId, describeRule, partyLabel, plainDate, resourceLabel, type ResourceNames } from '../uma/sharing/sentences.js';

const OUTCOMES: Record<ClaimsOutput['outcome'], string> = {
  grant: 'allowed',
  request_denied: 'denied',
  request_submitted: 'you were asked',
  need_info: 'asked who they are',
};

const ANSWERS = { yes: 'can see', no: 'blocked', ask: 'you would be asked' } as const;

const DONE: Record<string, string> = {
  'rule-added': 'The rule was added.',
  'rule-deleted': 'The rule was deleted.',
  'request-once': 'Approved once: they have access for 30 days.',
  'request-always': 'Approved: a sharing rule now allows this.',
  'request-deny': 'Denied: they will not get access.',
  'rpt-revoked': 'The access token was revoked.',
};

/** The sentence for a `done` key an action redirected with; undefined for an unknown key. */
export const doneMessage = (key: unknown): string | undefined => (typeof key === 'string' ? DONE[key] : undefined);

/** What the add-rule form said, to show it again with an error. */
export interface RuleForm {
  effect?: string;
  grantee_type?: string;
  grantee?: string;
  resource?: string;
  scopes?: string[];
  more_scopes?: string;
  valid_until?: string;
  any_email?: boolean;
  note?: string;
}

/** What the owner has, as the dashboard shows it. */
export interface SharingData {
  email?: string;
  csrf: string;
  rules: SharingRule[];
  resources: ResourceDocument[];
  requests: AccessRequestDocument[];
  rpts: ActiveRpt[];
  history: HistoryEntry[];
  /** Client id → display name, for every client named by a request, RPT or history entry. */
  clientNames: ReadonlyMap<string, string>;
}

/** What this rendering adds: a notice, an error with the form as it was, or a preview's answer. */
export interface SharingExtras {
  error?: string;
  ruleForm?: RuleForm;
  preview?: Preview;
  previewForm?: Record<string, string | boolean | undefined>;
  done?: string;
}

/** The client ids the dashboard names, to look their names up before building the page. */
export function clientIdsOf(data: Pick<SharingData, 'requests' | 'rpts' | 'history'>): string[] {
  return [...data.requests.map((r) => r.clientId), ...data.rpts.map((t) => t.clientId), ...data.history.map((h) => h.clientId)];
}

export function sharingPage(data: SharingData, extras: SharingExtras = {}): Record<string, unknown> {
  const names = byId(data.resources);
  const form = extras.ruleForm ?? {};
  const client = (id: string) => data.clientNames.get(id) ?? id;
  return {
    email: data.email,
    csrf: data.csrf,
    done: extras.done,
    error: extras.error,
    rules: data.rules.map((rule) => ({ id: rule.id, description: describeRule(rule, names), note: rule.note, deny: rule.effect === 'deny' })),
    ...ruleFormOptions(data.resources, names, form),
    form: { ...form, deny: form.effect === 'deny', domain: form.grantee_type === 'email_domain' },
    preview: extras.preview && previewTable(extras.preview),
    previewForm: extras.previewForm ?? {},
    requests: data.requests.map((r) => ({
      id: r._id,
      party: partyLabel(r.requestingParty),
      client: client(r.clientId),
      since: plainDate(r.createdAt),
      asked: r.permissions.map((p) => ({ name: resourceLabel(p.resource_id, names), scopes: p.resource_scopes.join(', ') })),
    })),
    rpts: data.rpts.map((t) => ({ jti: t.jti, client: client(t.clientId), issued: plainDate(t.issuedAt), expires: plainDate(t.expiresAt) })),
    history: data.history.map((h) => ({
      id: h.id,
      when: plainDate(h.decidedAt),
      party: h.party,
      client: client(h.clientId),
      asked: h.asked,
      outcome: OUTCOMES[h.outcome],
      allowed: h.outcome === 'grant',
    })),
  };
}

/** The add-rule form's choices: all records, each type, each record; every scope the records have. */
function ruleFormOptions(resources: ResourceDocument[], names: ResourceNames, form: RuleForm) {
  const chosen = form.resource ?? 'all';
  const types = [...new Set(resources.map((r) => r.type).filter((t): t is string => Boolean(t)))].sort();
  const resourceOptions = [
    { value: 'all', label: 'All your records' },
    ...types.map((t) => ({ value: `type:${t}`, label: `Every record of type ${t}` })),
    ...resources.map((r) => ({ value: `id:${r._id}`, label: `${resourceLabel(r._id, names)}${r.type && r.name ? ` (${r.type})` : ''}` })),
  ].map((o) => ({ ...o, selected: o.value === chosen }));
  const scopeOptions = [...new Set(resources.flatMap((r) => r.resource_scopes))].sort().map((name) => ({ name, checked: form.scopes?.includes(name) ?? false }));
  return { resourceOptions, scopeOptions };
}

function previewTable(preview: Preview) {
  return {
    party: partyLabel(preview.requesting_party),
    rows: preview.resources.map((row) => ({
      name: row.name,
      type: row.name !== row.type ? row.type : undefined,
      cells: row.scopes.map((cell) => ({
        scope: cell.scope,
        answer: ANSWERS[cell.answer],
        yes: cell.answer === 'yes',
        no: cell.answer === 'no',
        reasons: cell.because.map((b) => b.description),
      })),
    })),
  };
}

export function decisionPage(explanation: Explanation): Record<string, unknown> {
  return {
    ...explanation,
    when: plainDate(explanation.decidedAt),
    decidedAt: explanation.decidedAt.toISOString(),
    outcomeLabel: OUTCOMES[explanation.outcome as ClaimsOutput['outcome']] ?? explanation.outcome,
    because: explanation.because.map((b) => ({ ...b, deleted: b.now === 'deleted', changed: b.now === 'changed' })),
  };
}
