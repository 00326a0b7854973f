// Real-client check with the official MCP TypeScript SDK (pinned in package.json).
//
//   node tests/e2e/ts_client.mjs http://127.0.0.1:3000/mcp
//
// Connects over Streamable HTTP (initialize + Mcp-Session-Id), lists tools, calls
// `add` and `divide`, terminates the session with DELETE, and prints ONE line of
// JSON to stdout. Any failure exits non-zero with a message on stderr.
import { describe, loadSdk } from './sdk.mjs';

function fail(message) {
    process.stderr.write(`ts_client: ${message}\n`);
    process.exit(1);
}

async function step(name, fn) {
    try {
        return await fn();
    } catch (err) {
        throw new Error(`${name} failed: ${describe(err)}`, { cause: err });
    }
}

async function main() {
    const url = process.argv[2];
    if (!url) fail('usage: node ts_client.mjs <server url, e.g. http://127.0.0.1:3000/mcp>');

    const { Client, StreamableHTTPClientTransport } = await loadSdk(
        ['client/index.js', 'client/streamableHttp.js'],
        fail,
    );
    const transportErrors = [];
    const transport = new StreamableHTTPClientTransport(new URL(url));
    const client = new Client({ name: 'mcp-runtime-e2e-ts', version: '0.0.0' });
    client.onerror = (err) => transportErrors.push(describe(err));

    await step('connect (initialize)', () => client.connect(transport));
    const sessionId = transport.sessionId ?? null;

    const listed = await step('tools/list', () => client.listTools());
    const tools = listed.tools.map((t) => t.name).sort();
    const addTool = listed.tools.find((t) => t.name === 'add');

    // callTool validates structuredContent against the tool's outputSchema from tools/list.
    const add = await step('tools/call add', () => client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }));
    const divide = await step('tools/call divide', () =>
        client.callTool({ name: 'divide', arguments: { a: 1, b: 0 } }),
    );

    // Client.close() does not end the session on its own: send the DELETE explicitly.
    let sessionTerminated = false;
    if (sessionId !== null) {
        await step('DELETE session', () => transport.terminateSession());
        sessionTerminated = transport.sessionId === undefined;
    }
    await step('close', () => client.close());

    const out = {
        sdk: 'typescript',
        protocolVersion: transport.protocolVersion ?? null,
        serverName: client.getServerVersion()?.name ?? null,
        serverVersion: client.getServerVersion()?.version ?? null,
        sessionId,
        sessionTerminated,
        tools,
        addStructured: add.structuredContent ?? null,
        addContent: add.content ?? null,
        addIsError: add.isError ?? false,
        divideByZeroIsError: divide.isError ?? false,
        divideByZeroContent: divide.content ?? null,
        outputSchemaOfAdd: addTool?.outputSchema ?? null,
        inputSchemaOfAdd: addTool?.inputSchema ?? null,
        transportErrors,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
    () => process.exit(0),
    (err) => fail(describe(err)),
);
