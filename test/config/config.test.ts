import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config/config.js';

describe('configuration', () => {
  test('defaults give a working embedded setup', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, mongodbDb: 'assent', logLevel: 'info', accessTokenTtl: 300, decisionRetentionDays: 400, decisionSegmentBytes: 64 * 1024 * 1024 });
    expect(config).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, socketIdleTimeoutMs: 30_000 });
    expect(config.issuer).toBeUndefined();
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.policyBundle).toMatch(/policies\/build\/policy\.wasm$/);
  });

  test('environment variables override the JSON file named by ASSENT_CONFIG', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'assent-config-'));
    const file = path.join(dir, 'assent.json');
    await writeFile(file, JSON.stringify({ port: 5000, logLevel: 'warn', issuer: 'https://as.example.org' }));
    const config = loadConfig({ ASSENT_CONFIG: file, ASSENT_PORT: '0', ASSENT_DECISION_RETENTION_DAYS: '30', ASSENT_DECISION_SEGMENT_BYTES: '1048576' });
    expect(config).toMatchObject({ port: 0, logLevel: 'warn', issuer: 'https://as.example.org', decisionRetentionDays: 30, decisionSegmentBytes: 1048576 });
  });

  test.each([
    [{ ASSENT_PORT: 'eighty' }, /ASSENT_PORT \(port\): must be integer/],
    [{ ASSENT_PORT: '70000' }, /ASSENT_PORT \(port\): must be <= 65535/],
    [{ ASSENT_ISSUER: 'http://as.example.org' }, /ASSENT_ISSUER \(issuer\): must be an https:\/\/ URL \(or http:\/\/ on localhost/],
    [{ ASSENT_ISSUER: 'https://as.example.org/' }, /ASSENT_ISSUER/],
    [{ ASSENT_ISSUER: 'https://as.example.org?x=1' }, /ASSENT_ISSUER/],
    [{ ASSENT_LOG_LEVEL: 'loud' }, /ASSENT_LOG_LEVEL \(logLevel\): must be one of debug, info, warn, error, silent$/],
    [{ ASSENT_REGISTRATION: 'closed' }, /ASSENT_REGISTRATION \(registrationAccessPolicy\): must be one of open, token$/],
    [{ ASSENT_MONGODB_DB: 'my db' }, /ASSENT_MONGODB_DB \(mongodbDb\): must be 1 to 63 letters, digits, underscores or hyphens$/],
    [{ ASSENT_KEY_SECRET: 'short' }, /ASSENT_KEY_SECRET \(keySecret\): must NOT have fewer than 32 characters/],
    [{ ASSENT_MONGODB_URI: 'postgres://x' }, /ASSENT_MONGODB_URI \(mongodbUri\): must be a MongoDB connection string starting with mongodb:\/\/ or mongodb\+srv:\/\//],
    [{ ASSENT_MONGODB_URI: 'mongodb://127.0.0.1:27017' }, /ASSENT_KEY_SECRET \(keySecret\): required when ASSENT_MONGODB_URI is set/],
    [{ ASSENT_ACCESS_TOKEN_TTL: '5' }, /ASSENT_ACCESS_TOKEN_TTL \(accessTokenTtl\): must be >= 60/],
    [{ ASSENT_DECISION_RETENTION_DAYS: '0' }, /ASSENT_DECISION_RETENTION_DAYS \(decisionRetentionDays\): must be >= 1/],
    [{ ASSENT_DECISION_RETENTION_DAYS: 'forever' }, /ASSENT_DECISION_RETENTION_DAYS \(decisionRetentionDays\): must be integer/],
    [{ ASSENT_DECISION_SEGMENT_BYTES: '1024' }, /ASSENT_DECISION_SEGMENT_BYTES \(decisionSegmentBytes\): must be >= 65536/],
    [{ ASSENT_UPSTREAM_PROVIDERS: '[{"id":"idp","type":"oidc' }, /^ASSENT_UPSTREAM_PROVIDERS \(upstreamProviders\): not valid JSON \(/],
    [{ ASSENT_UPSTREAM_PROVIDERS: '{"id":"idp"}' }, /ASSENT_UPSTREAM_PROVIDERS \(upstreamProviders\): must be array/],
    [{ ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([{ id: 'idp', type: 'saml', clientId: 'a', displayName: 'IdP' }]) }, /\(upstreamProviders\/0\/type\): must be one of google, oidc, oauth2$/],
    [{ ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([{ id: 'g', type: 'google', clientId: 'a', displayName: 'G', scopes: ['openid email'] }]) }, /\(upstreamProviders\/0\/scopes\/0\): must be a scope token/],
    [{ ASSENT_HEADERS_TIMEOUT_MS: '0' }, /ASSENT_HEADERS_TIMEOUT_MS \(headersTimeoutMs\): must be >= 100/],
    [{ ASSENT_KEEPALIVE_TIMEOUT_MS: 'forever' }, /ASSENT_KEEPALIVE_TIMEOUT_MS \(keepAliveTimeoutMs\): must be integer/],
    [{ ASSENT_SOCKET_IDLE_TIMEOUT_MS: '3600000' }, /ASSENT_SOCKET_IDLE_TIMEOUT_MS \(socketIdleTimeoutMs\): must be <= 600000/],
    [{ ASSENT_HEADERS_TIMEOUT_MS: '20000', ASSENT_REQUEST_TIMEOUT_MS: '10000' }, /ASSENT_HEADERS_TIMEOUT_MS \(headersTimeoutMs\): must not exceed ASSENT_REQUEST_TIMEOUT_MS/],
    [{ ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([{ id: 'idp', type: 'oidc', clientId: 'a', displayName: 'IdP' }]) }, /ASSENT_UPSTREAM_PROVIDERS \(upstreamProviders\/0\): must have required property 'issuer'/],
    [{ ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([{ id: 'gh', type: 'oauth2', clientId: 'a', displayName: 'GH', authorizationEndpoint: 'https://gh.example/authorize', tokenEndpoint: 'https://gh.example/token' }]) }, /\(upstreamProviders\/0\): must have required property 'userinfoEndpoint'/],
    [{ ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([{ id: 'Google!', type: 'google', clientId: 'a', displayName: 'G' }]) }, /\(upstreamProviders\/0\/id\): must be 1 to 32 lower-case letters/],
    [{ ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([{ id: 'g', type: 'google', clientId: 'a', displayName: 'G', logoUri: 'http://g.example/logo.png' }]) }, /\(upstreamProviders\/0\/logoUri\): must be an https: or data:image\/ URI/],
    [{ ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([{ id: 'g', type: 'google', clientId: 'a', displayName: 'G' }, { id: 'g', type: 'google', clientId: 'b', displayName: 'G2' }]) }, /provider id g is used by two providers/],
    [{ ASSENT_UPSTREAM_PROVIDERS: JSON.stringify([{ id: 'g', type: 'google', clientId: 'a', displayName: 'G' }, { id: 'fake', type: 'oauth2', issuer: 'https://accounts.google.com', clientId: 'b', displayName: 'F', authorizationEndpoint: 'https://f.example/a', tokenEndpoint: 'https://f.example/t', userinfoEndpoint: 'https://f.example/u' }]) }, /issuer https:\/\/accounts.google.com is used by two providers/],
  ])('%o is refused with a message naming the key', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    expect(() => loadConfig(env)).not.toThrow(/must match pattern|\^|\$"|\[\\/);
  });

  test('an unknown key or unreadable file in ASSENT_CONFIG is refused', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'assent-config-'));
    const unknown = path.join(dir, 'unknown.json');
    await writeFile(unknown, JSON.stringify({ prot: 4000 }));
    expect(() => loadConfig({ ASSENT_CONFIG: unknown })).toThrow(/prot: unknown configuration key/);
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{ nope');
    expect(() => loadConfig({ ASSENT_CONFIG: broken })).toThrow(`ASSENT_CONFIG: ${broken}: not valid JSON (`);
    expect(() => loadConfig({ ASSENT_CONFIG: path.join(dir, 'absent.json') })).toThrow(/ASSENT_CONFIG: cannot read .*absent\.json \(ENOENT\)/);
    const list = path.join(dir, 'list.json');
    await writeFile(list, '[1,2]');
    expect(() => loadConfig({ ASSENT_CONFIG: list })).toThrow(/must hold a JSON object/);
  });
});
