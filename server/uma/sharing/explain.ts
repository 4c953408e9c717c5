// "Why?": a recorded decision replayed and explained, with the rules behind it then and now.

import type { DecisionLog } from '../../policy/decision-log.js';
import type { DecisionRecord } from '../../policy/engine.js';
import { OWNER_REASON, type ClaimsInput, type ClaimsOutput } from '../../policy/entrypoints.js';
import type { Resources } from '../../store/repositories/resources.js';
import type { SharingRules } from '../../store/repositories/sharing-rules.js';
import { askedFor, byId, partyLabel, reasonDescriber } from './sentences.js';
import { isObject } from './validation.js';

export interface ExplainedReason {
  id: string;
  kind: 'rule' | 'approval' | 'owner';
  /** The sentence of the rule (or approval) as it was when the decision was made. */
  description: string;
  /** Whether the owner's rule with this id is the same now, changed, or gone. */
  now: 'unchanged' | 'changed' | 'deleted' | 'n/a';
}

export interface Explanation {
  id: string;
  entrypoint: string;
  bundleDigest: string;
  decidedAt: Date;
  ownerId?: string;
  /** Label → value lines describing the recorded input. */
  input: { label: string; value: string }[];
  outcome: string;
  replayedOutcome: string;
  /** Whether the recorded bundle, given the recorded input, still gives the recorded result. */
  matches: boolean;
  because: ExplainedReason[];
  result: unknown;
  replayed: unknown;
}

/** What explaining needs: the decision log (find, replay) and the owner's rules and resources now. */
export interface ExplainDeps {
  decisions: Pick<DecisionLog, 'find' | 'replay'>;
  sharingRules: Pick<SharingRules, 'ofOwner'>;
  resources: Pick<Resources, 'ofOwner'>;
}

/**
 * Replays a recorded decision against the bundle that made it and says what was asked, what was
 * answered and which rules produced the answer. With `ownerId`, a decision about anyone else is
 * unknown (null), exactly as a missing one.
 */
export async function explainDecision(deps: ExplainDeps, id: string, ownerId?: string): Promise<Explanation | null> {
  const found = await deps.decisions.find(id);
  if (!found || (ownerId !== undefined && ownerOf(found) !== ownerId)) return null;
  const replay = await deps.decisions.replay(id);
  if (!replay) return null;
  const { record, replayed, matches } = replay;
  const owner = ownerOf(record);
  const base = {
    id: record.id,
    entrypoint: record.entrypoint,
    bundleDigest: record.bundleDigest,
    decidedAt: record.decidedAt,
    ...(owner ? { ownerId: owner } : {}),
    matches,
    result: record.result,
    replayed,
  };
  if (record.entrypoint !== 'claims') {
    return { ...base, input: [{ label: 'input', value: JSON.stringify(record.input) }], outcome: JSON.stringify(record.result), replayedOutcome: JSON.stringify(replayed), because: [] };
  }
  const input = record.input as ClaimsInput;
  const result = record.result as ClaimsOutput;
  const [resources, current] = owner ? await Promise.all([deps.resources.ofOwner(owner), deps.sharingRules.ofOwner(owner)]) : [[], []];
  const names = byId(resources);
  const describe = reasonDescriber(input.rules, names, input.approvals);
  const currentById = new Map(current.map((r) => [r.id, r]));
  return {
    ...base,
    input: [
      { label: 'owner', value: input.owner.sub },
      { label: 'client', value: input.client.client_id },
      { label: 'requesting party', value: input.requesting_party ? `${partyLabel(input.requesting_party)} (${input.requesting_party.sub} at ${input.requesting_party.iss})` : 'nobody identified yet' },
      { label: 'asked for', value: askedFor(input, names) },
      { label: 'rules in force', value: `${input.rules.length} rule(s), ${input.approvals.length} one-off approval(s)${input.refused_before ? '; refused before' : ''}` },
      { label: 'policy clock', value: input.now },
    ],
    outcome: result.outcome,
    replayedOutcome: (replayed as ClaimsOutput).outcome,
    because: result.because.map((reason): ExplainedReason => {
      if (reason.startsWith('approval:')) return { id: reason, kind: 'approval', description: describe(reason), now: 'n/a' };
      if (reason === OWNER_REASON) return { id: reason, kind: 'owner', description: describe(reason), now: 'n/a' };
      const then = input.rules.find((r) => r.id === reason);
      const nowRule = currentById.get(reason);
      return {
        id: reason,
        kind: 'rule',
        description: describe(reason),
        now: !nowRule ? 'deleted' : then && canonical(then) === canonical(nowRule) ? 'unchanged' : 'changed',
      };
    }),
  };
}

/** JSON with object keys sorted: equal for equal rules whatever the store did to key order or prototypes. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

function ownerOf(record: DecisionRecord): string | undefined {
  const sub = (record.input as { owner?: { sub?: unknown } }).owner?.sub;
  return typeof sub === 'string' ? sub : undefined;
}
