import type Router from '@koa/router';
import type { DecisionLog } from '../policy/decision-log.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { Store } from '../store/port.js';

/**
 * Liveness (the process answers) and readiness (the store answers and the decision log takes
 * records — without it no decision can be made; which policy bundle is live).
 */
export function healthRoutes(router: Router, deps: { store: Store; policy: PolicyEngine; decisions: DecisionLog }): void {
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await deps.store.ping();
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', store: deps.store.kind };
      return;
    }
    if (!deps.decisions.writable()) {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', store: deps.store.kind, decisionLog: 'failed' };
      return;
    }
    ctx.body = { status: 'ready', store: deps.store.kind, policy: { digest: deps.policy.digest } };
  });
}
