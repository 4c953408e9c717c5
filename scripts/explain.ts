import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig } from '../server/config/config.js';
import { PolicyEngine } from '../server/policy/engine.js';
import { DecisionLog } from '../server/policy/decision-log.js';
import { openStore } from '../server/store/open.js';
import { Resources } from '../server/store/repositories/resources.js';
import { SharingRules } from '../server/store/repositories/sharing-rules.js';
import { explainDecision, type ExplainedReason, type Explanation } from '../server/uma/sharing/explain.js';

/**
 * `npm run explain -- <decision id>`: "why was this access allowed?" Opens the configured store,
 * replays the recorded decision against the policy bundle that made it (from the store, not the
 * bundle on disk) and prints what was asked, what was answered, whether the replay gives the same
 * answer, and the rules that produced it.
 *
 * Exit status: 0 when the replay matches the record, 3 when it does not, 1 for an unknown id or a
 * failure, 2 for a usage or configuration error.
 */

const REASON_STATE = { unchanged: 'rule unchanged since', changed: 'rule changed since', deleted: 'rule deleted since', 'n/a': 'one-off approval' } as const;
const reasonNote = (reason: ExplainedReason) => (reason.kind === 'owner' ? 'the owner’s own access' : REASON_STATE[reason.now]);

export function formatExplanation(e: Explanation): string {
  const lines: [string, string][] = [
    ['decision', e.id],
    ['entrypoint', e.entrypoint],
    ['bundle', `sha256:${e.bundleDigest}`],
    ['decided at', e.decidedAt.toISOString()],
    ...e.input.map((line): [string, string] => [line.label, line.value]),
    ['outcome', e.outcome],
    ['replayed', e.replayedOutcome],
    ['matches', e.matches ? 'yes: the recorded bundle gives the recorded result' : 'NO: the recorded bundle gives a different result'],
  ];
  if (e.entrypoint === 'claims') {
    if (e.because.length === 0) lines.push(['because', 'no rule (nothing allowed all of it and nothing denied it)']);
    e.because.forEach((b, i) => lines.push([i === 0 ? 'because' : '', `${b.id}: ${b.description} (${reasonNote(b)})`]));
  }
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n';
}

/** Runs the command; returns the exit status. */
export async function main(args: string[], env: NodeJS.ProcessEnv = process.env, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const err = (text: string) => process.stderr.write(`explain: ${text}\n`);
  const id = args[0];
  if (!id || args.length > 1) {
    err('usage: npm run explain -- <decision id>');
    return 2;
  }
  try {
    const config = loadConfig(env);
    const store = await openStore(config);
    try {
      // Bundles other than the configured one come from the store, where each was kept when a decision was recorded.
      const decisions = await DecisionLog.open(store, await PolicyEngine.open({ wasmFile: config.policyBundle }), config);
      const explanation = await explainDecision(
        { decisions, sharingRules: await SharingRules.open(store), resources: await Resources.open(store) },
        id,
      ).finally(() => decisions.close());
      if (!explanation) {
        err(`no decision with id ${id}`);
        return 1;
      }
      out(formatExplanation(explanation));
      return explanation.matches ? 0 : 3;
    } finally {
      await store.close();
    }
  } catch (e) {
    err(`${e instanceof ConfigError ? 'invalid configuration: ' : ''}${(e as Error).message}`);
    return e instanceof ConfigError ? 2 : 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
