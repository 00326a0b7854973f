// A real OAuth 2.1 authorization server for tests/oauth_e2e.rs, built on
// oidc-provider (pinned in tests/e2e/as/package-lock.json, installed into
// <repo>/.tools/as/ by scripts/install-test-tools.sh).
//
//   node server.mjs --port P --resource R [--resource R2 ...]
//
// Prints one JSON line {"issuer": "http://127.0.0.1:P"} on stdout once it listens
// on 127.0.0.1:P. Everything else (request log, errors) goes to stderr.
//
// What it offers:
// * issuer http://127.0.0.1:P; RFC 8414 metadata at
//   /.well-known/oauth-authorization-server and OIDC discovery at
//   /.well-known/openid-configuration; JWKS with an RS256 key generated at start;
// * open dynamic client registration (public clients with
//   token_endpoint_auth_method "none" allowed, loopback http redirect URIs);
// * authorization code + PKCE (S256, required for every client);
// * resource indicators (RFC 8707): for every --resource R the access token is an
//   RS256 JWT (typ "at+jwt", RFC 9068) with aud = R, iss, sub, exp, client_id,
//   scope (space separated, from "notes:read notes:write") and the extra claims
//   preferred_username and roles;
// * headless login: every interaction completes on its own for the user "alice"
//   (login, then consent to every requested scope and resource), so following the
//   redirects of the authorization endpoint with plain GETs (keeping cookies) ends
//   at the client's redirect_uri with ?code=...&iss=...;
// * refresh tokens when offline_access is requested;
// * token exchange (RFC 8693) for the confidential client "notes-server" (secret
//   "s3cret", HTTP Basic): a live access token of this server as subject_token, a
//   --resource as resource (or audience), scopes of RESOURCE_SCOPES; the new JWT names
//   the same user as sub, the target as aud and the client as act.sub.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));

// oidc-provider is installed into <repo>/.tools/as/node_modules by
// scripts/install-test-tools.sh; OIDC_PROVIDER_DIR overrides that folder (the one
// holding node_modules/). Falls back to normal resolution from this file.
async function loadProvider() {
  const dir = process.env.OIDC_PROVIDER_DIR ?? path.resolve(here, '..', '..', '..', '.tools', 'as');
  if (fs.existsSync(path.join(dir, 'node_modules', 'oidc-provider'))) {
    const require = createRequire(path.join(dir, 'noop.js'));
    return (await import(pathToFileURL(require.resolve('oidc-provider')).href)).default;
  }
  try {
    return (await import('oidc-provider')).default;
  } catch (err) {
    console.error(`server.mjs: cannot load oidc-provider from ${dir} (run scripts/install-test-tools.sh): ${err}`);
    process.exit(1);
  }
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    resource: { type: 'string', multiple: true, default: [] },
    'access-token-ttl': { type: 'string', default: '600' },
  },
  strict: true,
});
if (!values.port || !/^\d+$/.test(values.port)) {
  console.error('usage: node server.mjs --port P --resource R [--resource R2 ...]');
  process.exit(2);
}
const port = Number(values.port);
const resources = new Set(values.resource);
if (resources.size === 0) {
  console.error('server.mjs: at least one --resource is required');
  process.exit(2);
}
const accessTokenTTL = Number(values['access-token-ttl']);
const issuer = `http://127.0.0.1:${port}`;

// The only user, and what the tokens say about them.
const USERS = {
  alice: { preferred_username: 'alice', roles: ['editor'] },
};
const RESOURCE_SCOPES = 'notes:read notes:write';

const Provider = await loadProvider();
const jose = await loadJose();

// jose comes with oidc-provider (a dependency of it), from the same folder.
async function loadJose() {
  const dir = process.env.OIDC_PROVIDER_DIR ?? path.resolve(here, '..', '..', '..', '.tools', 'as');
  const require = createRequire(path.join(dir, 'noop.js'));
  return import(pathToFileURL(require.resolve('jose')).href);
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};
const ownKeys = jose.createLocalJWKSet({
  keys: [{ ...publicKey.export({ format: 'jwk' }), kid: signingKey.kid, alg: 'RS256', use: 'sig' }],
});

const configuration = {
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  clients: [{
    client_id: 'notes-server',
    client_secret: 's3cret',
    grant_types: [TOKEN_EXCHANGE],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'offline_access', 'notes:read', 'notes:write'],
  claims: { openid: ['sub'] },
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: 'RS256',
  },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true, initialAccessToken: false },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // A client that names no resource gets a token for the first --resource.
      defaultResource: async (_ctx, _client, oneOf) => oneOf ?? [...resources][0],
      // The token request may omit the resource it asked for at authorization.
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resourceIndicator) => {
        if (!resources.has(resourceIndicator)) {
          throw new Provider.errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
        }
        return {
          scope: RESOURCE_SCOPES,
          audience: resourceIndicator,
          accessTokenTTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  extraTokenClaims: async (_ctx, token) => {
    const user = token.accountId ? USERS[token.accountId] : undefined;
    if (!user) return undefined;
    const claims = { preferred_username: user.preferred_username, roles: user.roles };
    // RFC 8693 section 4.1: who acts for the user.
    if (token.gty === TOKEN_EXCHANGE) claims.act = { sub: token.clientId };
    return claims;
  },
  findAccount: async (_ctx, sub) => {
    if (!USERS[sub]) return undefined;
    return {
      accountId: sub,
      claims: async () => ({ sub, preferred_username: USERS[sub].preferred_username }),
    };
  },
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && code.scopes.has('offline_access'),
  interactions: {
    url: async (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  ttl: {
    AccessToken: accessTokenTTL,
    AuthorizationCode: 60,
    Grant: 3600,
    IdToken: 3600,
    Interaction: 600,
    RefreshToken: 86400,
    Session: 3600,
  },
  renderError: async (ctx, out, error) => {
    ctx.type = 'json';
    ctx.body = out;
    console.error(`[as] error page: ${JSON.stringify(out)} ${error?.stack ?? ''}`);
  },
};

const provider = new Provider(issuer, configuration);

provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
  const { client, params } = ctx.oidc;
  const { errors } = Provider;
  if (client.clientAuthMethod === 'none') {
    throw new errors.InvalidClient('token exchange is for confidential clients');
  }
  if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest('subject_token_type must be an access token');
  }
  let subject;
  try {
    ({ payload: subject } = await jose.jwtVerify(params.subject_token, ownKeys, { issuer, typ: 'at+jwt' }));
  } catch {
    throw new errors.InvalidGrant('the subject token is not a live access token of this server');
  }
  const target = [params.resource].flat().filter(Boolean)[0] ?? params.audience;
  if (!target || !resources.has(target)) {
    throw new errors.InvalidTarget(`unknown resource ${target}`);
  }
  const allowed = new Set(RESOURCE_SCOPES.split(' '));
  const asked = (params.scope ?? '').split(' ').filter(Boolean);
  const unknown = asked.find((scope) => !allowed.has(scope));
  if (unknown) throw new errors.InvalidScope(`unknown scope ${unknown}`, unknown);
  const token = new provider.AccessToken({
    accountId: subject.sub,
    client,
    gty: TOKEN_EXCHANGE,
    scope: asked.join(' ') || undefined,
    resourceServer: new provider.ResourceServer(target, {
      scope: RESOURCE_SCOPES,
      audience: target,
      accessTokenTTL,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'RS256' } },
    }),
  });
  ctx.oidc.entity('AccessToken', token);
  const value = await token.save();
  console.error(`[as] token exchange for ${subject.sub} by ${client.clientId} to ${target}`);
  ctx.body = {
    access_token: value,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: token.expiration,
    scope: token.scope,
  };
}, ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope']);

provider.on('server_error', (_ctx, err) => console.error('[as] server_error', err));
provider.on('grant.error', (_ctx, err) => console.error('[as] grant.error', err.message, err.error_description ?? ''));
provider.on('authorization.error', (_ctx, err) => console.error('[as] authorization.error', err.message, err.error_description ?? ''));
provider.on('registration_create.error', (_ctx, err) => console.error('[as] registration.error', err.message, err.error_description ?? ''));

// Request log on stderr: method, url, status.
provider.use(async (ctx, next) => {
  await next();
  console.error(`[as] ${ctx.method} ${ctx.originalUrl} -> ${ctx.status}`);
});

// Dynamic registration ignores the `scope` a client registers with. Both official
// MCP SDKs register with the scope of the FIRST challenge (SEP-835: "notes:read")
// and later step up to "notes:read notes:write" with the same client_id;
// oidc-provider would otherwise treat the registered scope as the client's allow
// list and answer the step-up with invalid_scope. (Many production authorization
// servers likewise decide allowed scopes by policy, not by the DCR request.)
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/reg' && ctx.is('application/json')) {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw; // let oidc-provider report the malformed body
    }
    if (body && typeof body === 'object' && !Array.isArray(body) && 'scope' in body) {
      console.error(`[as] registration: ignoring requested client scope ${JSON.stringify(body.scope)}`);
      delete body.scope;
    }
    ctx.req.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  await next();
});

// Headless interactions: GET /interaction/:uid completes the pending prompt
// (login as alice, then consent to everything requested) and redirects back to
// the authorization endpoint's resume URL.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (!match || ctx.method !== 'GET') {
    await next();
    return;
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: 'alice' } };
  } else if (prompt.name === 'consent') {
    const accountId = session?.accountId;
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    if (!grant) {
      grant = new provider.Grant({ accountId, clientId: params.client_id });
    }
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    result = { consent: { grantId } };
  } else {
    result = {
      error: 'access_denied',
      error_description: `unsupported prompt ${prompt.name}`,
    };
  }
  console.error(`[as] interaction ${match[1]} prompt=${prompt.name} -> ${Object.keys(result).join(',')}`);
  // interactionResult returns the resume URL; answer with a plain 303 so a client
  // that follows redirects by hand sees it.
  const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: true,
  });
  ctx.status = 303;
  ctx.redirect(redirectTo);
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
server.on('error', (err) => {
  console.error(`[as] cannot listen on 127.0.0.1:${port}: ${err.message}`);
  process.exit(1);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
// The tests own this process: exit when its stdin closes (the parent died).
if (process.env.AS_EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
