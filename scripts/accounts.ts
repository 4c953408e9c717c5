import { parseArgs } from 'node:util';
import { read } from 'read';
import { ConfigError, loadConfig } from '../server/config/config.js';
import { AccountAdmin, AccountError, ROLES } from '../server/sessions/account-admin.js';
import { StartupError } from '../server/startup-error.js';
import { openStore } from '../server/store/open.js';
import type { AccountDocument } from '../server/store/repositories/accounts.js';

/**
 * `npm run accounts -- create|list|disable|enable|reset-password|set-fhir-user|add-patient|
 * remove-patient|grant-role|revoke-role`: accounts on the
 * configured store (MongoDB, or the embedded data directory when no server holds it). Passwords
 * come from a prompt without echo, or from the first line of stdin when it is not a terminal;
 * never from the command line, where the process list and shell history would keep them.
 */

const USAGE = `usage: npm run accounts -- <command>
  create <email> [--name "Full Name"]   new account; password from the prompt or stdin
  list                                  every account: email, name, status, created
  disable <email>                       no more sign-ins; sessions ended, tokens revoked
  enable <email>                        allow sign-ins again
  reset-password <email>                new password from the prompt or stdin; sessions ended
  set-fhir-user <email> <reference>     FHIR identity: Patient/<id>, Practitioner/<id>, or none
  add-patient <email> <patient id>      a practitioner may reach this patient's compartment
  remove-patient <email> <patient id>   ... and no longer
  grant-role <email> <role>             roles: ${ROLES.join(', ')}
  revoke-role <email> <role>            the account's sessions end`;

/** Commands that change one thing of one account: `<command> <email> <value>`, and what they print. */
const VALUE_COMMANDS = {
  'set-fhir-user': (admin: AccountAdmin, email: string, value: string) => admin.setFhirUser(email, value),
  'add-patient': (admin: AccountAdmin, email: string, value: string) => admin.addPatient(email, value),
  'remove-patient': (admin: AccountAdmin, email: string, value: string) => admin.removePatient(email, value),
  'grant-role': (admin: AccountAdmin, email: string, value: string) => admin.grantRole(email, value),
  'revoke-role': (admin: AccountAdmin, email: string, value: string) => admin.revokeRole(email, value),
};
type ValueCommand = keyof typeof VALUE_COMMANDS;
const isValueCommand = (command: string | undefined): command is ValueCommand => command !== undefined && Object.hasOwn(VALUE_COMMANDS, command);

class UsageError extends Error {}

const NO_PASSWORD_ON_ARGV = 'passwords are never taken from the command line (the process list and shell history would keep them); type it at the prompt or pipe it on stdin';

try {
  const { command, email, name, value } = parseCommand(process.argv.slice(2));
  const config = loadConfig();
  const store = await openStore(config);
  try {
    const admin = await AccountAdmin.open(store);
    switch (command) {
      case 'create': {
        const account = await admin.create(email, name ?? '', await newPassword());
        process.stdout.write(`created ${account.email} (${account.name})\n`);
        break;
      }
      case 'list':
        process.stdout.write(table(await admin.list()));
        break;
      case 'disable':
        await admin.disable(email);
        process.stdout.write(`disabled ${email}; its sessions are ended and its tokens revoked\n`);
        break;
      case 'enable':
        await admin.enable(email);
        process.stdout.write(`enabled ${email}\n`);
        break;
      case 'reset-password':
        await admin.resetPassword(email, await newPassword());
        process.stdout.write(`new password set for ${email}; its sessions are ended\n`);
        break;
      default:
        process.stdout.write(`${identity(await VALUE_COMMANDS[command](admin, email, value ?? ''))}\n`);
    }
  } finally {
    await store.close();
  }
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`accounts: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`accounts: invalid configuration: ${err.message}\n`);
    process.exit(2);
  }
  if (!(err instanceof AccountError || err instanceof StartupError)) throw err;
  process.stderr.write(`accounts: ${err.message}\n`);
  process.exit(1);
}

function parseCommand(args: string[]): { command: 'create' | 'list' | 'disable' | 'enable' | 'reset-password' | ValueCommand; email: string; name?: string; value?: string } {
  if (args.some((arg) => /^--?(p|password|pass|pw)(=|$)/i.test(arg))) throw new UsageError(NO_PASSWORD_ON_ARGV);
  let parsed;
  try {
    parsed = parseArgs({ args, options: { name: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [command, ...rest] = parsed.positionals;
  const { name } = parsed.values;
  if (command === 'list') {
    if (rest.length > 0 || name !== undefined) throw new UsageError('list takes no arguments');
    return { command, email: '' };
  }
  if (isValueCommand(command)) {
    if (name !== undefined) throw new UsageError(`--name is for create only`);
    if (rest.length !== 2) throw new UsageError(`${command} needs the account's email and one value`);
    return { command, email: rest[0]!, value: rest[1]! };
  }
  if (command !== 'create' && command !== 'disable' && command !== 'enable' && command !== 'reset-password') {
    throw new UsageError(command ? `unknown command ${command}` : 'no command given');
  }
  if (name !== undefined && command !== 'create') throw new UsageError(`--name is for create only`);
  const [email, ...extra] = rest;
  if (!email) throw new UsageError(`${command} needs the account's email`);
  if (extra.length > 0) throw new UsageError(command === 'create' || command === 'reset-password' ? NO_PASSWORD_ON_ARGV : `${command} takes one email`);
  return { command, email, ...(name !== undefined ? { name } : {}) };
}

/** From a terminal: asked twice without echo. Otherwise: the first line of stdin. */
async function newPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await read({ prompt: 'New password: ', silent: true, replace: '', output: process.stderr });
    const again = await read({ prompt: 'Again: ', silent: true, replace: '', output: process.stderr });
    if (first !== again) throw new AccountError('the two passwords differ; nothing was changed');
    return first;
  }
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const [line = ''] = text.split(/\r?\n/);
  if (!line) throw new AccountError('no password on stdin: pipe it as the first line, or run this in a terminal to be asked');
  return line;
}

/** One line: the account's email, FHIR identity, patients and roles. */
function identity(account: AccountDocument): string {
  const patients = account.patients?.length ? `; patients ${account.patients.join(', ')}` : '';
  const roles = account.roles?.length ? `; roles ${account.roles.join(', ')}` : '';
  return `${account.email}: ${account.fhirUser ?? 'no FHIR identity'}${patients}${roles}`;
}

function table(accounts: AccountDocument[]): string {
  if (accounts.length === 0) return 'no accounts\n';
  const rows = [
    ['EMAIL', 'NAME', 'STATUS', 'CREATED', 'FHIR USER', 'PATIENTS', 'ROLES'],
    ...accounts.map((a) => [a.email, a.name, a.disabled ? 'disabled' : 'active', a.createdAt.toISOString().slice(0, 16).replace('T', ' '), a.fhirUser ?? '', (a.patients ?? []).join(','), (a.roles ?? []).join(',')]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n';
}
