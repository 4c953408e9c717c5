import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { hashPassword } from './crypto/password.js';
import { generateSecret, hashSecret } from './crypto/secrets.js';
import { projectRoot } from './config/config.js';
import { DuplicateKeyError, type Store, type StoredDocument } from './store/port.js';
import type { AccountDocument, Accounts } from './store/repositories/accounts.js';
import { isFhirId, parseFhirUser } from './smart/fhir-user.js';
import type { ClientMetadata, Clients } from './store/repositories/clients.js';
import type { Resources } from './store/repositories/resources.js';
import { validResourceDescription, type ResourceDescription } from './uma/resource-registration.js';

interface SeedFile {
  accounts: ({ email: string; name: string } & Pick<AccountDocument, 'fhirUser' | 'patients' | 'roles'>)[];
  clients: (ClientMetadata & { client_id: string })[];
  /** UMA resources as their resource server would register them for their owner (a seeded account). */
  resources: (ResourceDescription & { _id: string; owner: string; resource_server: string })[];
}

interface MarkerDocument extends StoredDocument {
  seededAt: Date;
}

export interface SeedCredentials {
  /** Present only when this call created the demo data; generated values are shown only then. */
  passwords: { email: string; password: string; generated: boolean }[];
  clientSecrets: { clientId: string; secret: string }[];
}

/**
 * Loads seeds/demo.json into a store that has never been seeded. The marker document is written
 * last, so a start that died half-way completes the rest next time; a seeded store is never
 * touched again, so a restart never changes credentials.
 */
export async function seedDemoData(
  store: Store,
  repositories: { accounts: Accounts; clients: Clients; resources: Resources },
  demoPassword: string | undefined,
): Promise<SeedCredentials | undefined> {
  const meta = await store.collection<MarkerDocument>('meta');
  if (await meta.findOne({ _id: 'demo-seed' })) return undefined;
  const seeds = JSON.parse(await readFile(path.join(projectRoot, 'seeds/demo.json'), 'utf8')) as SeedFile;
  const credentials: SeedCredentials = { passwords: [], clientSecrets: [] };
  // One password for every demo account, so trying the patient, the practitioner and the admin is easy.
  const password = demoPassword ?? generateSecret().slice(0, 16);
  for (const { email, name, ...identity } of seeds.accounts) {
    checkIdentity(email, identity);
    const created = await ignoreDuplicate(async () =>
      repositories.accounts.create({ email, name, emailVerified: true, passwordHash: await hashPassword(password), ...identity }),
    );
    if (created) credentials.passwords.push({ email, password, generated: demoPassword === undefined });
  }
  for (const { client_id, ...metadata } of seeds.clients) {
    const confidential = metadata.token_endpoint_auth_method !== 'none';
    const secret = confidential ? generateSecret() : undefined;
    const created = await ignoreDuplicate(() =>
      repositories.clients.create({
        _id: client_id,
        metadata,
        ...(secret ? { secretHash: hashSecret(secret) } : {}),
        source: 'seed',
        createdAt: new Date(),
      }),
    );
    if (created && secret) credentials.clientSecrets.push({ clientId: client_id, secret });
  }
  const registeredAt = Date.now();
  for (const [index, { _id, owner, resource_server, ...description }] of seeds.resources.entries()) {
    const account = await repositories.accounts.byEmail(owner);
    if (!account) throw new Error(`seeds/demo.json: resource ${_id} belongs to ${owner}, who is not a seeded account`);
    // One millisecond apart, so lists sorted by registration time keep the file's order.
    const now = new Date(registeredAt + index);
    await ignoreDuplicate(() =>
      repositories.resources.register({ _id, ownerId: account._id, resourceServerId: resource_server, ...validResourceDescription(description), createdAt: now, updatedAt: now }),
    );
  }
  await ignoreDuplicate(() => meta.insert({ _id: 'demo-seed', seededAt: new Date() }));
  return credentials;
}

function checkIdentity(email: string, identity: Pick<AccountDocument, 'fhirUser' | 'patients'>) {
  if (identity.fhirUser !== undefined && !parseFhirUser(identity.fhirUser)) throw new Error(`seeds/demo.json: ${email} has fhirUser ${identity.fhirUser}, not Patient/<id> or Practitioner/<id>`);
  const bad = identity.patients?.find((id) => !isFhirId(id));
  if (bad !== undefined) throw new Error(`seeds/demo.json: ${email} lists patient ${bad}, not a FHIR id`);
}

async function ignoreDuplicate(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (err instanceof DuplicateKeyError) return false;
    throw err;
  }
}
