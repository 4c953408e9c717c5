import { demoClients } from '../../demo/config.js';
import { DemoServer } from '../../demo/server.js';
import { startTestServer, type TestServer } from './server.js';
import type { StoreBackend } from './stores.js';

export interface DemoWithAssent {
  assent: TestServer;
  demo: DemoServer;
  /** A token Assent issues to the demo SMART app for a demo patient's SMART request (aud = the demo FHIR base). */
  smartToken(email: string, scopes: string[], context?: { patient?: string }): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The demo FHIR server and the real Assent as `npm start` wires them: the demo bound first, its
 * FHIR base in ASSENT_FHIR_BASE_URLS and its clients in ASSENT_CLIENTS (upserted as operator clients).
 */
export async function startDemoWithAssent(backend: StoreBackend): Promise<DemoWithAssent> {
  const demo = await DemoServer.listen(0);
  const assent = await startTestServer(backend, { ASSENT_FHIR_BASE_URLS: demo.address.base, ASSENT_CLIENTS: JSON.stringify(demoClients(demo.address)) });
  await demo.serve(assent.url);
  const base = demo.address.base;
  return {
    assent,
    demo,
    async smartToken(email, scopes, context = {}) {
      const account = await assent.services.accounts.byEmail(email);
      if (!account) throw new Error(`no account ${email}`);
      const fhirUser = account.fhirUser ?? `Patient/${email.split('@')[0]}`;
      const claims = { ...context, fhirUser: `${base}/${fhirUser}` };
      return (await assent.services.tokenService.issueAccessToken({ clientId: 'demo-smart-app', accountId: account._id, subject: account._id, scopes, audience: base, claims })).token;
    },
    async stop() {
      await demo.close();
      await assent.stop();
    },
  };
}
