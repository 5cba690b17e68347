// A certified OpenID provider (panva/oidc-provider) for Tessera's single sign-on tests, on 127.0.0.1.
//
//   node provider.mjs CONFIG.json
//
// CONFIG: {"port": 4100, "clients": [...oidc-provider client metadata...], "keys": "keys.json",
//          "users": "users.json", "audience": "urn:tessera:api"}
// keys.json: {"keys": [private JWKs]}, the first signs; read at start (restart the process to rotate keys).
// users.json: {"dana": {"password": "...", "email": "...", "groups": ["analysts"]}}, read again at every
// sign-in and token, so a test changes a user's groups by rewriting it.
// The sign-in page checks the password; consent is given at once (Tessera is a first-party client).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const users = () => JSON.parse(readFileSync(config.users, 'utf8'));
const audience = config.audience;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: JSON.parse(readFileSync(config.keys, 'utf8')),
  cookies: { keys: ['tessera-test-cookie-key'] },
  scopes: ['openid', 'email', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
  conformIdTokenClaims: false, // the ID token carries the scopes' claims (email, groups)
  pkce: { required: () => true },
  ttl: {
    AccessToken: 300, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api', audience, accessTokenFormat: 'jwt', accessTokenTTL: 300 }),
    },
  },
  async findAccount(ctx, id) {
    const user = users()[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: user.email, email_verified: true, groups: user.groups };
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    const user = users()[token.accountId];
    return user ? { email: user.email, groups: user.groups } : undefined;
  },
});

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(res, uid, error) {
  res.writeHead(error ? 401 : 200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>Test provider: sign in</title></head><body>
<h1>Sign in to the test provider</h1>${error ? `<p id="error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>Login <input name="login" id="login" autocomplete="off"></label>
<label>Password <input name="password" id="password" type="password"></label>
<button type="submit" id="submit">Sign in</button></form></body></html>`);
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function consent(req, res, details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, {
    mergeWithLastSubmission: true,
  });
}

const handle = provider.callback();
const server = createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return handle(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'consent') return await consent(req, res, details);
    if (req.method === 'GET') return loginPage(res, match[1]);
    const form = await body(req);
    const user = users()[form.get('login')];
    if (!user || user.password !== form.get('password')) return loginPage(res, match[1], 'Wrong login or password.');
    return await provider.interactionFinished(req, res, { login: { accountId: form.get('login') } }, {
      mergeWithLastSubmission: false,
    });
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`interaction failed: ${err.message}`);
  }
});
server.listen(config.port, '127.0.0.1', () => console.log(`listening ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
