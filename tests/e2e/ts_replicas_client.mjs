// A session through a load balancer in front of several replicas, with the official MCP
// TypeScript SDK (pinned in package.json).
//
//   node tests/e2e/ts_replicas_client.mjs http://127.0.0.1:8080/mcp
//
// Against examples/everything.rs at 2025-11-25, as a client that answers elicitations:
// calls `test_elicitation` three times (answering each), then `test_trigger_tool_change`
// three times, waiting after each for `notifications/tools/list_changed` on the session's
// GET stream, and ends the session with DELETE. Which replica served which request is for
// the load balancer's log to tell. Prints ONE line of JSON to stdout; any failure exits
// non-zero with a message on stderr.
import { describe, loadSdk } from './sdk.mjs';

function fail(message) {
    process.stderr.write(`ts_replicas_client: ${message}\n`);
    process.exit(1);
}

async function main() {
    const url = process.argv[2];
    if (!url) fail('usage: node ts_replicas_client.mjs <url of the load balancer>');
    const { Client, StreamableHTTPClientTransport, ElicitRequestSchema, ToolListChangedNotificationSchema } =
        await loadSdk(['client/index.js', 'client/streamableHttp.js', 'types.js'], fail);

    const transportErrors = [];
    const transport = new StreamableHTTPClientTransport(new URL(url));
    const client = new Client(
        { name: 'mcp-runtime-e2e-ts-replicas', version: '0.0.0' },
        { capabilities: { elicitation: {} } },
    );
    client.onerror = (err) => transportErrors.push(describe(err));
    const questions = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
        questions.push(request.params.message);
        return { action: 'accept', content: { username: `ada${questions.length}`, email: 'ada@example.com' } };
    });
    let changes = 0;
    let changed = () => {};
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        changes += 1;
        changed();
    });

    await client.connect(transport);
    const sessionId = transport.sessionId ?? null;
    // The GET stream opens once the session is initialized; the first change waits for it.
    const elicitations = [];
    for (const round of [1, 2, 3]) {
        const result = await client.callTool({ name: 'test_elicitation', arguments: { message: `round ${round}` } });
        elicitations.push(result.content?.[0]?.text ?? null);
    }
    const seen = [];
    for (const round of [1, 2, 3]) {
        const before = changes;
        const arrived = new Promise((resolve) => {
            changed = resolve;
        });
        await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
        if (changes === before) {
            await Promise.race([arrived, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        }
        seen.push(changes - before);
    }
    await transport.terminateSession();
    await client.close();
    process.stdout.write(
        `${JSON.stringify({ sessionId, protocolVersion: transport.protocolVersion ?? null, questions, elicitations, seen, transportErrors })}\n`,
    );
}

main().then(
    () => process.exit(0),
    (err) => fail(describe(err)),
);
