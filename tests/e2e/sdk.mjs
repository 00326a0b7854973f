// What the TypeScript client scripts share: loading the official SDK and describing errors.
//
// The SDK is loaded from <repo>/.tools/node/node_modules (installed by
// scripts/install-test-tools.sh); MCP_E2E_NODE_MODULES overrides that folder.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeModules =
    process.env.MCP_E2E_NODE_MODULES ?? path.resolve(here, '..', '..', '.tools', 'node', 'node_modules');
const sdkEsm = path.join(nodeModules, '@modelcontextprotocol', 'sdk', 'dist', 'esm');

/// The SDK modules named by their paths under dist/esm (`client/index.js`, ...), merged
/// into one object; `fail` is called with a message when they cannot be loaded.
export async function loadSdk(modules, fail) {
    try {
        const loaded = await Promise.all(
            modules.map((rel) => import(pathToFileURL(path.join(sdkEsm, ...rel.split('/'))).href)),
        );
        return Object.assign({}, ...loaded);
    } catch (err) {
        fail(`cannot load @modelcontextprotocol/sdk from ${nodeModules} (run scripts/install-test-tools.sh): ${err}`);
    }
}

/// An error as one line, with its code and causes.
export function describe(err) {
    if (err instanceof Error) {
        const code = err.code !== undefined ? ` (code ${err.code})` : '';
        return `${err.name}: ${err.message}${code}${err.cause ? ` [cause: ${describe(err.cause)}]` : ''}`;
    }
    return String(err);
}
