import type { Context } from 'koa';
import { generateSecret, hashSecret, secretMatches } from '../crypto/secrets.js';
import type { Collection, Store, StoredDocument } from '../store/port.js';
import type { AuthorizationRequest } from './authorization-request.js';

/**
 * An authorization request waiting for the user (login, consent). It is bound to the browser that
 * started it (a cookie whose hash it keeps) and carries the CSRF token its forms must echo.
 */
export interface InteractionDocument extends StoredDocument {
  request: AuthorizationRequest;
  browserHash: string;
  csrf: string;
  /** Set once the user has logged in during this interaction. */
  login?: { accountId: string; authTime: number };
  finishedAt?: Date;
  expiresAt: Date;
}

const COOKIE = 'assent_interaction';
const LIFETIME_SECONDS = 15 * 60;

export class Interactions {
  private constructor(private readonly interactions: Collection<InteractionDocument>) {}

  static async open(store: Store) {
    return new Interactions(await store.collection<InteractionDocument>('interactions'));
  }

  async start(ctx: Context, request: AuthorizationRequest): Promise<InteractionDocument> {
    const binding = generateSecret();
    const interaction: InteractionDocument = {
      _id: generateSecret(),
      request,
      browserHash: hashSecret(binding),
      csrf: generateSecret(),
      expiresAt: new Date(Date.now() + LIFETIME_SECONDS * 1000),
    };
    await this.interactions.insert(interaction);
    ctx.cookies.set(`${COOKIE}_${interaction._id.slice(0, 16)}`, binding, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/interaction',
      maxAge: LIFETIME_SECONDS * 1000,
      overwrite: true,
    });
    return interaction;
  }

  /** The interaction, if it exists, has not expired and belongs to this browser. */
  async find(ctx: Context, id: string): Promise<InteractionDocument | null> {
    const interaction = await this.interactions.findOne({ _id: id, finishedAt: { $exists: false } });
    const binding = ctx.cookies.get(`${COOKIE}_${id.slice(0, 16)}`);
    return interaction && binding && secretMatches(binding, interaction.browserHash) ? interaction : null;
  }

  /** The unfinished interaction by id, without the browser check: only for a caller that made that check earlier. */
  byId(id: string): Promise<InteractionDocument | null> {
    return this.interactions.findOne({ _id: id, finishedAt: { $exists: false } });
  }

  async recordLogin(id: string, login: { accountId: string; authTime: number }) {
    await this.interactions.update({ _id: id }, { login });
  }

  /** Ends the interaction exactly once; a concurrent second submission gets null. */
  async finish(ctx: Context, id: string): Promise<InteractionDocument | null> {
    const interaction = await this.interactions.consume({ _id: id, finishedAt: { $exists: false } }, { finishedAt: new Date() });
    ctx.cookies.set(`${COOKIE}_${id.slice(0, 16)}`, null, { httpOnly: true, sameSite: 'lax', path: '/interaction', overwrite: true });
    return interaction;
  }
}
