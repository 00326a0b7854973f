// Resumption with the official MCP TypeScript SDK (pinned in package.json).
//
//   node tests/e2e/ts_resume_client.mjs http://127.0.0.1:3001/mcp
//
// Against examples/everything.rs in a 2025-11-25 session: calls `test_reconnection`, whose
// server closes the call's SSE connection mid-call, so the SDK must reconnect with GET and
// Last-Event-ID to get the result; then a call with progress. Prints ONE line of JSON to
// stdout; any failure exits non-zero with a message on stderr.
import { describe, loadSdk } from './sdk.mjs';

function fail(message) {
    process.stderr.write(`ts_resume_client: ${message}\n`);
    process.exit(1);
}

async function main() {
    const url = process.argv[2];
    if (!url) fail('usage: node ts_resume_client.mjs <server url>');
    const { Client, StreamableHTTPClientTransport } = await loadSdk(
        ['client/index.js', 'client/streamableHttp.js'],
        fail,
    );

    // Every GET the SDK sends, with the Last-Event-ID it resumes from.
    const resumes = [];
    const fetchLogged = async (input, init) => {
        const method = init?.method ?? 'GET';
        const headers = new Headers(init?.headers);
        if (method === 'GET' && headers.get('last-event-id')) resumes.push(headers.get('last-event-id'));
        return fetch(input, init);
    };
    const transportErrors = [];
    const transport = new StreamableHTTPClientTransport(new URL(url), {
        fetch: fetchLogged,
        reconnectionOptions: {
            initialReconnectionDelay: 100,
            maxReconnectionDelay: 2000,
            reconnectionDelayGrowFactor: 1.5,
            maxRetries: 3,
        },
    });
    // A client that can be asked something gets streamed answers: a call may then close its
    // connection (a call answered with plain JSON has none to close).
    const client = new Client(
        { name: 'mcp-runtime-e2e-ts-resume', version: '0.0.0' },
        { capabilities: { elicitation: {} } },
    );
    client.onerror = (err) => transportErrors.push(describe(err));
    await client.connect(transport);

    const started = Date.now();
    const reconnection = await client.callTool(
        { name: 'test_reconnection', arguments: {} },
        undefined,
        { timeout: 15000 },
    );
    const reconnectionMs = Date.now() - started;
    const progress = [];
    const withProgress = await client.callTool(
        { name: 'test_tool_with_progress', arguments: {} },
        undefined,
        { onprogress: (p) => progress.push(p.progress), timeout: 15000 },
    );
    await transport.terminateSession();
    await client.close();
    process.stdout.write(
        `${JSON.stringify({
            protocolVersion: transport.protocolVersion ?? null,
            reconnectionText: reconnection.content?.[0]?.text ?? null,
            reconnectionMs,
            resumes,
            progress,
            progressText: withProgress.content?.[0]?.text ?? null,
            transportErrors,
        })}\n`,
    );
}

main().then(
    () => process.exit(0),
    (err) => fail(describe(err)),
);
