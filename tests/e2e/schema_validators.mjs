// Compiles every tool schema of the contracts named on the command line with the JSON
// Schema validators MCP clients run, and reports each error or warning they give.
//
//   node schema_validators.mjs CONTRACT.json...
//
// Validators, all with the ajv and ajv-formats the official TypeScript SDK depends on (as
// installed with it from the pinned lock file):
//   sdk        the SDK's own AjvJsonSchemaValidator, which the SDK client compiles each
//              tool's outputSchema with on tools/list;
//   ajv2020    Ajv2020 with the same options and formats, as the MCP Inspector 2.x and the
//              SDK 2.x validate 2020-12 schemas;
//   ajv-strict Ajv with its defaults (strict mode, no formats), as the MCP Inspector 1.x
//              compiles output schemas (only those: it builds forms from input schemas,
//              whose `x-mcp-header` annotations strict mode would call unknown keywords).
// Prints one JSON object: {"checked": N, "problems": [{tool, schema, validator, message}]}.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadSdk, describe } from './sdk.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeModules =
    process.env.MCP_E2E_NODE_MODULES ?? path.resolve(here, '..', '..', '.tools', 'node', 'node_modules');
const require = createRequire(path.join(nodeModules, 'noop.js'));

function fail(message) {
    console.error(message);
    process.exit(2);
}

const { AjvJsonSchemaValidator } = await loadSdk(['validation/ajv-provider.js'], fail);
const Ajv = require('ajv').default;
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

// Everything a validator says on the console while compiling is a problem.
let said = [];
for (const level of ['warn', 'log', 'error']) {
    console[level] = (...args) => said.push(args.map(String).join(' '));
}

const validators = {
    sdk: (schema) => new AjvJsonSchemaValidator().getValidator(schema),
    ajv2020: (schema) => {
        const ajv = new Ajv2020({ strict: false, validateFormats: true, validateSchema: false, allErrors: true });
        addFormats(ajv);
        return ajv.compile(schema);
    },
    'ajv-strict': (schema) => new Ajv().compile(schema),
};

const problems = [];
let checked = 0;
for (const file of process.argv.slice(2)) {
    const contract = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const tool of contract.tools ?? []) {
        for (const kind of ['inputSchema', 'outputSchema']) {
            const schema = tool[kind];
            if (schema === undefined) continue;
            checked += 1;
            for (const [validator, compile] of Object.entries(validators)) {
                if (validator === 'ajv-strict' && kind !== 'outputSchema') continue;
                said = [];
                try {
                    compile(structuredClone(schema));
                } catch (err) {
                    said.push(describe(err));
                }
                for (const message of said) {
                    problems.push({ contract: path.basename(file), tool: tool.name, schema: kind, validator, message });
                }
            }
        }
    }
}
process.stdout.write(JSON.stringify({ checked, problems }) + '\n');
