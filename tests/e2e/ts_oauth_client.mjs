// OAuth 2.1 end-to-end check with the official MCP TypeScript SDK (pinned in
// tests/e2e/package.json), driven by tests/oauth_e2e.rs.
//
//   node tests/e2e/ts_oauth_client.mjs http://127.0.0.1:PORT/mcp
//
// Uses the SDK's own authorization support: a StreamableHTTPClientTransport with
// an `authProvider` (OAuthClientProvider). The flow it demonstrates:
//
//   1. initialize without a token -> 401 + WWW-Authenticate (resource_metadata, scope)
//   2. the SDK fetches the protected resource metadata, then the authorization
//      server metadata, registers a public client dynamically (RFC 7591) and builds
//      an authorization request (code + PKCE S256 + resource indicator);
//   3. `redirectToAuthorization(url)` below plays the user agent headlessly: it
//      GETs the URL and follows the redirects (keeping cookies) until the
//      authorization server sends it to our redirect_uri, and keeps `code`;
//   4. `transport.finishAuth(code)` exchanges the code (with the PKCE verifier) for
//      an access token, and a fresh transport reconnects: `whoami`;
//   5. `add_note` -> 403 insufficient_scope: SDK 1.32.2 re-authorizes by itself
//      with the scope from the challenge (`redirectToAuthorization` again), then
//      throws UnauthorizedError for the application to finish the exchange with
//      `finishAuth(code)` and retry the call, which now succeeds.
//
// Prints ONE line of JSON to stdout:
//   { whoami, addNote, authorizationRounds: [{scope, resource, iss, clientId}],
//     stepUp: {status, wwwAuthenticate, sdkError}, registrations, http: [{method, url, status, ...}] }
// Any failure exits non-zero with a message (and the HTTP log) on stderr.
//
// The SDK is loaded from <repo>/.tools/node/node_modules (installed by
// scripts/install-test-tools.sh); MCP_E2E_NODE_MODULES overrides that folder.
import { describe, loadSdk } from './sdk.mjs';

// Where the authorization server sends the browser back to. Nothing listens
// there: the headless user agent stops at the redirect and reads `code` from it.
const REDIRECT_URL = 'http://127.0.0.1:8976/oauth/callback';
// Upper bound on the redirects of one authorization round.
const MAX_AUTHORIZATION_HOPS = 20;

const httpLog = [];

function fail(message) {
    process.stderr.write(`ts_oauth_client: ${message}\n`);
    if (httpLog.length) {
        process.stderr.write(`ts_oauth_client: HTTP log:\n${httpLog.map((e) => `  ${JSON.stringify(e)}`).join('\n')}\n`);
    }
    process.exit(1);
}

async function step(name, fn) {
    try {
        return await fn();
    } catch (err) {
        throw new Error(`${name} failed: ${describe(err)}`, { cause: err });
    }
}

// fetch that records every exchange (method, url, status, and the headers that
// matter for OAuth). Used by the transport, by the SDK's auth code and by the
// headless user agent alike.
async function loggedFetch(input, init) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
    const entry = { method, url: String(url) };
    const headers = new Headers(init?.headers ?? (typeof input === 'object' && 'headers' in input ? input.headers : undefined));
    entry.bearer = (headers.get('authorization') ?? '').startsWith('Bearer ');
    if (method === 'POST' && typeof init?.body === 'string') {
        try {
            const body = JSON.parse(init.body);
            if (body && typeof body === 'object' && !Array.isArray(body) && typeof body.method === 'string') {
                entry.rpcMethod = body.method;
                if (body.method === 'tools/call') entry.tool = body.params?.name;
            }
        } catch {
            // a form body (token endpoint) or not JSON: no JSON-RPC method
        }
    }
    httpLog.push(entry);
    let response;
    try {
        response = await fetch(input, init);
    } catch (err) {
        entry.error = describe(err);
        throw err;
    }
    entry.status = response.status;
    const challenge = response.headers.get('www-authenticate');
    if (challenge) entry.wwwAuthenticate = challenge;
    const location = response.headers.get('location');
    if (location) entry.location = location;
    return response;
}

// A cookie jar good enough for one authorization server on one origin.
class CookieJar {
    #cookies = new Map();
    store(response) {
        for (const line of response.headers.getSetCookie()) {
            const pair = line.split(';', 1)[0];
            const eq = pair.indexOf('=');
            if (eq <= 0) continue;
            const name = pair.slice(0, eq).trim();
            const value = pair.slice(eq + 1).trim();
            const expired = /;\s*expires=Thu, 01 Jan 1970/i.test(line) || /;\s*max-age=0\b/i.test(line);
            if (expired || value === '') this.#cookies.delete(name);
            else this.#cookies.set(name, value);
        }
    }
    header() {
        return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
}

// The OAuthClientProvider: in-memory storage plus a headless user agent.
class HeadlessOAuthProvider {
    constructor() {
        this._clientInformation = undefined;
        this._tokens = undefined;
        this._codeVerifier = undefined;
        this._pendingCode = undefined;
        this._state = undefined;
        this.rounds = [];
        this.registrations = 0;
        this.tokenHistory = [];
    }

    get redirectUrl() {
        return REDIRECT_URL;
    }

    get clientMetadata() {
        return {
            client_name: 'mcp-runtime-e2e-ts-oauth',
            redirect_uris: [REDIRECT_URL],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
        };
    }

    state() {
        this._state = crypto.randomUUID();
        return this._state;
    }

    clientInformation() {
        return this._clientInformation;
    }

    saveClientInformation(info) {
        if (!this._clientInformation || this._clientInformation.client_id !== info.client_id) this.registrations += 1;
        this._clientInformation = info;
    }

    tokens() {
        return this._tokens;
    }

    saveTokens(tokens) {
        this._tokens = tokens;
        this.tokenHistory.push({ scope: tokens.scope ?? null, tokenType: tokens.token_type, expiresIn: tokens.expires_in ?? null });
    }

    saveCodeVerifier(verifier) {
        this._codeVerifier = verifier;
    }

    codeVerifier() {
        if (!this._codeVerifier) throw new Error('no PKCE code verifier saved');
        return this._codeVerifier;
    }

    takeCode() {
        const code = this._pendingCode;
        this._pendingCode = undefined;
        if (!code) throw new Error('no authorization code is pending (redirectToAuthorization was not called)');
        return code;
    }

    // The "browser": GET the authorization URL and follow redirects by hand
    // (keeping the authorization server's cookies) until the redirect_uri.
    async redirectToAuthorization(authorizationUrl) {
        const url = new URL(authorizationUrl);
        const round = {
            scope: url.searchParams.get('scope'),
            resource: url.searchParams.get('resource'),
            codeChallengeMethod: url.searchParams.get('code_challenge_method'),
            clientId: url.searchParams.get('client_id'),
        };
        this.rounds.push(round);
        const jar = new CookieJar();
        let current = url;
        for (let hop = 0; hop < MAX_AUTHORIZATION_HOPS; hop++) {
            const cookie = jar.header();
            const response = await loggedFetch(current, {
                method: 'GET',
                redirect: 'manual',
                headers: cookie ? { cookie } : {},
            });
            jar.store(response);
            const location = response.headers.get('location');
            if (response.status < 300 || response.status >= 400 || !location) {
                const text = await response.text().catch(() => '');
                throw new Error(`authorization stopped at ${current.href} with HTTP ${response.status}: ${text.slice(0, 500)}`);
            }
            await response.body?.cancel();
            const next = new URL(location, current);
            if (next.href.startsWith(REDIRECT_URL)) {
                const error = next.searchParams.get('error');
                if (error) {
                    throw new Error(`authorization server answered ${error}: ${next.searchParams.get('error_description') ?? ''}`);
                }
                const code = next.searchParams.get('code');
                if (!code) throw new Error(`redirect to ${REDIRECT_URL} without a code: ${next.href}`);
                if (this._state !== undefined && next.searchParams.get('state') !== this._state) {
                    throw new Error(`state mismatch in ${next.href}`);
                }
                round.iss = next.searchParams.get('iss');
                round.hops = hop + 1;
                this._pendingCode = code;
                return;
            }
            current = next;
        }
        throw new Error(`authorization did not reach ${REDIRECT_URL} within ${MAX_AUTHORIZATION_HOPS} redirects`);
    }
}

function structured(result, what) {
    if (result.isError) {
        throw new Error(`${what} returned isError: ${JSON.stringify(result.content)}`);
    }
    if (!result.structuredContent) {
        throw new Error(`${what} has no structuredContent: ${JSON.stringify(result)}`);
    }
    return result.structuredContent;
}

async function main() {
    const url = process.argv[2];
    if (!url) fail('usage: node ts_oauth_client.mjs <server url, e.g. http://127.0.0.1:3000/mcp>');

    const { Client, StreamableHTTPClientTransport, UnauthorizedError } = await loadSdk(
        ['client/index.js', 'client/streamableHttp.js', 'client/auth.js'],
        fail,
    );
    const provider = new HeadlessOAuthProvider();
    const transportErrors = [];

    const newTransport = () =>
        new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: loggedFetch });
    const newClient = () => {
        const client = new Client({ name: 'mcp-runtime-e2e-ts-oauth', version: '0.0.0' });
        client.onerror = (err) => transportErrors.push(describe(err));
        return client;
    };

    // 1-4: connect; the first attempt ends in UnauthorizedError after the SDK has
    // sent us through the authorization endpoint.
    let transport = newTransport();
    let client = newClient();
    let firstConnectError = null;
    try {
        await client.connect(transport);
    } catch (err) {
        if (!(err instanceof UnauthorizedError)) throw new Error(`first connect failed: ${describe(err)}`, { cause: err });
        firstConnectError = describe(err);
    }
    if (firstConnectError === null) throw new Error('first connect succeeded without authorization: the server accepted a request without a token');
    await step('finishAuth (first round)', () => transport.finishAuth(provider.takeCode()));
    await transport.close().catch(() => {});

    transport = newTransport();
    client = newClient();
    await step('connect with token', () => client.connect(transport));
    const serverVersion = client.getServerVersion();

    const whoami = structured(await step('tools/call whoami', () => client.callTool({ name: 'whoami', arguments: {} })), 'whoami');

    // 5: add_note needs notes:write; the token only has notes:read.
    const note = { title: 'OAuth step-up', body: 'written after re-authorization with notes:write' };
    let stepUpError = null;
    let addNoteResult;
    try {
        addNoteResult = await client.callTool({ name: 'add_note', arguments: note });
    } catch (err) {
        if (!(err instanceof UnauthorizedError)) {
            throw new Error(`add_note before step-up failed with something else than UnauthorizedError: ${describe(err)}`, { cause: err });
        }
        stepUpError = describe(err);
    }
    if (stepUpError !== null) {
        await step('finishAuth (step-up round)', () => transport.finishAuth(provider.takeCode()));
        addNoteResult = await step('tools/call add_note after step-up', () => client.callTool({ name: 'add_note', arguments: note }));
    }
    const addNote = structured(addNoteResult, 'add_note');

    // The 403 the step-up answered.
    const challenge = httpLog.find((e) => e.status === 403);
    await client.close().catch(() => {});

    return {
        sdk: '@modelcontextprotocol/sdk',
        serverInfo: serverVersion ?? null,
        firstConnectError,
        whoami,
        addNote,
        authorizationRounds: provider.rounds,
        tokens: provider.tokenHistory,
        registrations: provider.registrations,
        stepUp: {
            status: challenge?.status ?? null,
            wwwAuthenticate: challenge?.wwwAuthenticate ?? null,
            sdkError: stepUpError,
        },
        transportErrors,
        http: httpLog,
    };
}

main().then(
    (summary) => {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        process.exit(0);
    },
    (err) => fail(describe(err)),
);
