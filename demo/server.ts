import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import { demoAddress, FHIR_SERVER_CLIENT, type DemoAddress } from './config.js';
import { appRouter } from './app-files.js';
import { fhirRouter } from './fhir/app.js';
import { Introspector } from './fhir/introspection.js';
import { ResourceStore } from './fhir/resources.js';
import { StartupError } from '../server/startup-error.js';

const DATA_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data');

/**
 * The demo's HTTP server: bound first, so its address (and so the FHIR base and the app's
 * redirect URI) is known before Assent's configuration is completed; it answers once `serve`
 * has been told where Assent is.
 */
export class DemoServer {
  private constructor(
    readonly address: DemoAddress,
    private readonly server: http.Server,
  ) {}

  /** Always on the loopback interface: the demo is for this machine only. */
  static async listen(port: number, host = '127.0.0.1'): Promise<DemoServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new StartupError(`the demo's port ${port} is already in use; set ASSENT_DEMO_PORT, or ASSENT_DEMO=false to go without the demo`) : err),
      );
      server.listen(port, host, () => resolve());
    });
    return new DemoServer(demoAddress((server.address() as AddressInfo).port), server);
  }

  /** Starts answering: the FHIR server under /fhir (introspecting at Assent as demo-fhir-server) and the SMART app under /app/. */
  async serve(assentUrl: string): Promise<void> {
    const resources = await ResourceStore.load(DATA_DIR);
    const introspector = new Introspector(`${assentUrl}/introspect`, { clientId: FHIR_SERVER_CLIENT, clientSecret: this.address.fhirClientSecret });
    const fhir = fhirRouter({ base: this.address.base, assentUrl, resources, introspect: (token) => introspector.introspect(token) });
    const app = new Koa();
    app.use(fhir.routes()).use(fhir.allowedMethods());
    const files = appRouter();
    app.use(files.routes());
    this.server.on('request', app.callback());
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
