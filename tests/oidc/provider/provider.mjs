// An independent OpenID provider for rcn's sign-in tests: the npm package `oidc-provider`, with
// its own login and consent pages ("dev interactions": any login name, any password), one
// confidential client that must use PKCE, and the test accounts with their claims.
//
// Started by `tests/src/oidc_provider.rs`, never in production. Configuration comes as JSON in
// RCN_TEST_OIDC_CONFIG:
//   { "client": { "client_id", "client_secret", "redirect_uris": [..],
//                 "post_logout_redirect_uris": [..] },
//     "accounts": { "<login>": { "<claim>": <value>, .. }, .. },
//     "scopes": { "<scope>": ["<claim>", ..], .. } }
// It listens on a random port of 127.0.0.1, prints `ISSUER=<url>` on stdout once it serves, and
// exits when its standard input closes, so it never outlives the test that started it.
//
// `oidc-provider` is installed outside the clone (RCN_TEST_OIDC_NODE_DIR, see the Rust helper), so
// it is imported by path.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const nodeDir = process.env.RCN_TEST_OIDC_NODE_DIR;
if (!nodeDir) {
  console.error('provider: RCN_TEST_OIDC_NODE_DIR is not set');
  process.exit(2);
}
const cfg = JSON.parse(process.env.RCN_TEST_OIDC_CONFIG ?? 'null');
if (!cfg?.client?.client_id || !cfg?.accounts) {
  console.error('provider: RCN_TEST_OIDC_CONFIG must hold a client and accounts');
  process.exit(2);
}

const { default: Provider } = await import(
  pathToFileURL(join(nodeDir, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href
);

// A fresh signing key per run: nothing of it is kept.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const accounts = cfg.accounts;
const provider = new Provider(issuer, {
  clients: [
    {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...cfg.client,
    },
  ],
  // PKCE for every client, confidential ones included (the NL GOV OIDC profile asks for it).
  pkce: { required: () => true },
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], profile: ['name'], ...(cfg.scopes ?? {}) },
  async findAccount(_ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: {
    AccessToken: 300,
    AuthorizationCode: 60,
    IdToken: 300,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
});
provider.on('server_error', (_ctx, err) => console.error('provider: server_error', err));
server.on('request', provider.callback());

process.stdout.write(`ISSUER=${issuer}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
