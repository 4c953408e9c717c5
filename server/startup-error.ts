/**
 * A start-up failure the operator can fix (port in use, data directory locked, bad configuration):
 * its message is one plain sentence saying what is wrong and how to fix it. server/main.ts prints
 * it as it is, without a stack, and exits non-zero.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
