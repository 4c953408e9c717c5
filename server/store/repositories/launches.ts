import { generateSecret, hashSecret } from '../../crypto/secrets.js';
import type { LaunchContext } from '../../smart/launch-context.js';
import type { Collection, Store, StoredDocument } from '../port.js';

/** A launch context an EHR created (POST /smart/launch), keyed by the hash of its launch id. */
export interface LaunchDocument extends StoredDocument {
  context: LaunchContext;
  /** The EHR client that created it. */
  createdBy: string;
  /** The app it is for; absent: any app. */
  clientId?: string;
  expiresAt: Date;
  consumedAt?: Date;
}

/** How long an app has to use a launch (SMART launches are short-lived). */
export const LAUNCH_LIFETIME_SECONDS = 5 * 60;

/** EHR launch contexts: short-lived and single-use. */
export class Launches {
  private constructor(private readonly launches: Collection<LaunchDocument>) {}

  static async open(store: Store) {
    return new Launches(await store.collection<LaunchDocument>('smart_launches'));
  }

  /** Stores a new launch; returns the launch id to hand to the app (only its hash is kept). */
  async create(fields: { context: LaunchContext; createdBy: string; clientId?: string }): Promise<{ launch: string; expiresIn: number }> {
    const launch = generateSecret();
    await this.launches.insert({ ...fields, _id: hashSecret(launch), expiresAt: new Date(Date.now() + LAUNCH_LIFETIME_SECONDS * 1000) });
    return { launch, expiresIn: LAUNCH_LIFETIME_SECONDS };
  }

  /** Spends the launch with one atomic find-and-modify; null when it is unknown, expired or spent. */
  redeem(launch: string): Promise<LaunchDocument | null> {
    return this.launches.consume({ _id: hashSecret(launch), consumedAt: { $exists: false } }, { consumedAt: new Date() });
  }
}
