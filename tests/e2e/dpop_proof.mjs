// DPoP proofs (RFC 9449) made with `jose`, an implementation independent of the server's,
// for tests/oauth_e2e.rs.
//
//   node dpop_proof.mjs KEY_FILE METHOD URL [ACCESS_TOKEN]
//
// The ES256 key lives in KEY_FILE (a private JWK), created on first use, so one client
// keeps one key across calls. Prints one JSON line: {"proof": "...", "jkt": "..."}, the
// proof for METHOD URL (with `ath` when ACCESS_TOKEN is given) and the key's RFC 7638
// thumbprint.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// jose comes with oidc-provider, installed into <repo>/.tools/as by
// scripts/install-test-tools.sh.
const dir = process.env.OIDC_PROVIDER_DIR ?? path.resolve(here, '..', '..', '.tools', 'as');
const require = createRequire(path.join(dir, 'noop.js'));
const jose = await import(pathToFileURL(require.resolve('jose')).href);

const [keyFile, method, url, token] = process.argv.slice(2);
if (!keyFile || !method || !url) {
  console.error('usage: node dpop_proof.mjs KEY_FILE METHOD URL [ACCESS_TOKEN]');
  process.exit(2);
}
if (!fs.existsSync(keyFile)) {
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  fs.writeFileSync(keyFile, JSON.stringify(await jose.exportJWK(privateKey)));
}
const privateJwk = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
const { kty, crv, x, y } = privateJwk;
const publicJwk = { kty, crv, x, y };
const key = await jose.importJWK(privateJwk, 'ES256');
const claims = { htm: method, htu: url, jti: crypto.randomUUID() };
if (token) {
  claims.ath = crypto.createHash('sha256').update(token).digest('base64url');
}
const proof = await new jose.SignJWT(claims)
  .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })
  .setIssuedAt()
  .sign(key);
const jkt = await jose.calculateJwkThumbprint(publicJwk, 'sha256');
console.log(JSON.stringify({ proof, jkt }));
