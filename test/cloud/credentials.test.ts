// Every aliyun CLI profile mode and the env variables against the emulator (STS AssumeRole/OIDC, a loopback metadata service, a credentials URI).
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { resolveProvider, type CredentialNet } from '../../src/cloud/credentials.js';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { getCallerIdentity } from '../../src/cloud/sts.js';
import { DEFAULT_ACCOUNT, type Emulator } from '../../src/emulator/index.js';
import { AuthError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { caught, emulator } from '../emulator/util.js';

const ACCOUNT = DEFAULT_ACCOUNT.accountId;
const RAM_USER = { accessKeyId: 'LTAI5tRamDeployer01', accessKeySecret: 'ram-user-secret-value-0001', accountId: ACCOUNT, ramUser: 'deployer' };
/** A temporary key as the metadata service and a credentials URI hand out (the emulator knows it as static). */
const INSTANCE_KEY = { accessKeyId: 'STS.InstanceKey0001', accessKeySecret: 'instance-secret-value-0001', accountId: ACCOUNT, securityToken: 'instance-token-value-000000001', roleName: 'EcsRole' };
const OIDC_PROVIDER = `acs:ram::${ACCOUNT}:oidc-provider/ack-rrsa`;
const OIDC_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.oidc-token-body-0001.signature';

interface Served {
  url: string;
  seen: string[];
  close(): Promise<void>;
}

async function serve(handler: http.RequestListener): Promise<Served> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['x-aliyun-ecs-metadata-token'] ?? '-'}`);
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const document = (): string =>
  JSON.stringify({
    Code: 'Success',
    AccessKeyId: INSTANCE_KEY.accessKeyId,
    AccessKeySecret: INSTANCE_KEY.accessKeySecret,
    SecurityToken: INSTANCE_KEY.securityToken,
    Expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    LastUpdated: new Date().toISOString(),
  });

/** ECS metadata service (IMDSv2: a token first, then the role name and its credentials with that token). */
function metadata(): Promise<Served> {
  return serve((req, res) => {
    const token = req.headers['x-aliyun-ecs-metadata-token'];
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      res.end('imds-v2-session-token-0001');
    } else if (token !== 'imds-v2-session-token-0001') {
      res.writeHead(401).end();
    } else if (req.url === '/latest/meta-data/ram/security-credentials/') {
      res.end('EcsRole');
    } else if (req.url === '/latest/meta-data/ram/security-credentials/EcsRole') {
      res.end(document());
    } else res.writeHead(404).end();
  });
}

/** A token file, the secrets the providers report, and their network settings pointed at the emulator. */
function setup(emu: Emulator, t: { after(fn: () => unknown): void }) {
  const dir = tempDir({ 'oidc-token': OIDC_TOKEN });
  t.after(() => dir.cleanup());
  const secrets: string[] = [];
  const net: CredentialNet = { timeoutMs: 3000, sts: () => emu.url, onSecret: (s) => secrets.push(s) };
  return { dir, secrets, net };
}

async function identity(emu: Emulator, provider: ReturnType<typeof resolveProvider>): Promise<{ type: string; arn: string }> {
  assert.ok(provider);
  const who = await getCallerIdentity({ credentials: provider, endpoint: emu.url, timeoutMs: 3000 });
  // The VPC side accepts the same credentials.
  const vpc = new PopVpcClient({ endpoint: emu.url, credentials: provider, timeoutMs: 3000 });
  assert.ok((await vpc.describeRegions()).length > 10);
  vpc.close();
  return { type: who.identityType, arn: who.arn };
}

test('every aliyun CLI profile mode: AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI', async (t) => {
  const emu = await emulator({ accounts: [DEFAULT_ACCOUNT, RAM_USER, INSTANCE_KEY], sts: { oidcProviders: { [OIDC_PROVIDER]: [OIDC_TOKEN] } } });
  const md = await metadata();
  const uri = await serve((_req, res) => res.end(document()));
  t.after(async () => {
    await md.close();
    await uri.close();
    await emu.close();
  });
  const { dir, secrets, net } = setup(emu, t);
  const tokenFile = dir.path('oidc-token');
  const config = {
    current: 'ak',
    profiles: [
      { name: 'ak', mode: 'AK', access_key_id: DEFAULT_ACCOUNT.accessKeyId, access_key_secret: DEFAULT_ACCOUNT.accessKeySecret, region_id: 'cn-hangzhou' },
      { name: 'sts', mode: 'StsToken', access_key_id: INSTANCE_KEY.accessKeyId, access_key_secret: INSTANCE_KEY.accessKeySecret, sts_token: INSTANCE_KEY.securityToken },
      { name: 'role', mode: 'RamRoleArn', access_key_id: RAM_USER.accessKeyId, access_key_secret: RAM_USER.accessKeySecret, ram_role_arn: `acs:ram::${ACCOUNT}:role/cgw-deployer`, ram_session_name: 'alice', expired_seconds: 900 },
      { name: 'chain', mode: 'ChainableRamRoleArn', source_profile: 'role', ram_role_arn: `acs:ram::${ACCOUNT}:role/second-hop`, ram_session_name: 'hop' },
      { name: 'ecs', mode: 'EcsRamRole' },
      { name: 'oidc', mode: 'OIDC', ram_role_arn: `acs:ram::${ACCOUNT}:role/rrsa-role`, oidc_provider_arn: OIDC_PROVIDER, oidc_token_file: tokenFile, ram_session_name: 'pod' },
      { name: 'uri', mode: 'CredentialsURI', credentials_uri: `${uri.url}/credentials` },
      { name: 'rootrole', mode: 'RamRoleArn', access_key_id: DEFAULT_ACCOUNT.accessKeyId, access_key_secret: DEFAULT_ACCOUNT.accessKeySecret, ram_role_arn: `acs:ram::${ACCOUNT}:role/x`, ram_session_name: 'root' },
      { name: 'loop', mode: 'ChainableRamRoleArn', source_profile: 'loop', ram_role_arn: `acs:ram::${ACCOUNT}:role/x` },
      { name: 'sso', mode: 'CloudSSO' },
    ],
  };
  const home = tempDir({ '.aliyun/config.json': JSON.stringify(config) });
  t.after(() => home.cleanup());
  const env = { HOME: home.dir, CGW_BATCH_ECS_METADATA_URL: md.url };
  const of = (profile: string) => resolveProvider({ env, profile }, net);

  assert.deepEqual(await identity(emu, of('ak')), { type: 'Account', arn: `acs:ram::${ACCOUNT}:root` });
  assert.equal((await identity(emu, of('sts'))).type, 'AssumedRoleUser');
  assert.deepEqual(await identity(emu, of('role')), { type: 'AssumedRoleUser', arn: `acs:ram::${ACCOUNT}:assumed-role/cgw-deployer/cgw-batch` });
  assert.equal((await identity(emu, of('chain'))).arn, `acs:ram::${ACCOUNT}:assumed-role/second-hop/cgw-batch`);
  assert.equal((await identity(emu, of('ecs'))).arn, `acs:ram::${ACCOUNT}:assumed-role/EcsRole/cgw-batch`);
  assert.deepEqual(md.seen.slice(0, 3), [
    'PUT /latest/api/token -',
    'GET /latest/meta-data/ram/security-credentials/ imds-v2-session-token-0001',
    'GET /latest/meta-data/ram/security-credentials/EcsRole imds-v2-session-token-0001',
  ], 'IMDSv2: the role and its credentials are read with the session token');
  assert.equal((await identity(emu, of('oidc'))).arn, `acs:ram::${ACCOUNT}:assumed-role/rrsa-role/cgw-batch`);
  assert.equal((await identity(emu, of('uri'))).type, 'AssumedRoleUser');
  assert.deepEqual(uri.seen, ['GET /credentials -']);

  const stats = emu.stats().actions;
  assert.equal(stats.AssumeRole?.ok, 3, 'role once, chain twice (its source role, then its own)');
  assert.equal(stats.AssumeRoleWithOIDC?.ok, 1);
  // Every temporary secret and token, and the OIDC token, reached the redactor before use.
  for (const s of [OIDC_TOKEN, INSTANCE_KEY.accessKeySecret, INSTANCE_KEY.securityToken]) assert.ok(secrets.includes(s), s.slice(0, 12));
  assert.ok(secrets.filter((s) => s.startsWith('CAIS')).length >= 4, 'STS tokens of every AssumeRole');

  const root = await caught(of('rootrole')!.get());
  assert.ok(root instanceof AuthError);
  assert.match(root.message, /AssumeRole of acs:ram::\d+:role\/x failed: NoPermission/);
  assert.ok(!root.message.includes(DEFAULT_ACCOUNT.accessKeySecret));
  assert.throws(() => of('loop'), /its own source_profile/);
  assert.throws(() => of('sso'), /CloudSSO, which cgw-batch does not support/);
  assert.throws(() => of('nobody'), /no profile 'nobody'/);
  assert.throws(() => resolveProvider({ env: { ...env, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' }, profile: 'ecs' }, net), /ECS metadata service is disabled/);
});

test('env variables: keys, OIDC (RRSA), ALIBABA_CLOUD_PROFILE and the current profile, ALIBABA_CLOUD_ECS_METADATA, ALIBABA_CLOUD_CREDENTIALS_URI', async (t) => {
  const emu = await emulator({ accounts: [DEFAULT_ACCOUNT, RAM_USER, INSTANCE_KEY], sts: { oidcProviders: { [OIDC_PROVIDER]: [OIDC_TOKEN] } } });
  const md = await metadata();
  const uri = await serve((_req, res) => res.end(document()));
  t.after(async () => {
    await md.close();
    await uri.close();
    await emu.close();
  });
  const { dir, net } = setup(emu, t);
  const home = tempDir({
    '.aliyun/config.json': JSON.stringify({
      current: 'user',
      profiles: [
        { name: 'user', mode: 'AK', access_key_id: RAM_USER.accessKeyId, access_key_secret: RAM_USER.accessKeySecret },
        { name: 'root', mode: 'AK', access_key_id: DEFAULT_ACCOUNT.accessKeyId, access_key_secret: DEFAULT_ACCOUNT.accessKeySecret },
      ],
    }),
  });
  const empty = tempDir({});
  t.after(() => {
    home.cleanup();
    empty.cleanup();
  });
  const id = (env: Record<string, string>) => identity(emu, resolveProvider({ env }, net));

  assert.equal((await id({ HOME: empty.dir, ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret })).type, 'Account');
  assert.equal(
    (await id({ HOME: empty.dir, ALIBABA_CLOUD_ACCESS_KEY_ID: INSTANCE_KEY.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: INSTANCE_KEY.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: INSTANCE_KEY.securityToken })).type,
    'AssumedRoleUser',
  );
  const rrsa = { HOME: empty.dir, ALIBABA_CLOUD_ROLE_ARN: `acs:ram::${ACCOUNT}:role/rrsa-role`, ALIBABA_CLOUD_OIDC_PROVIDER_ARN: OIDC_PROVIDER, ALIBABA_CLOUD_OIDC_TOKEN_FILE: dir.path('oidc-token') };
  assert.equal((await id(rrsa)).arn, `acs:ram::${ACCOUNT}:assumed-role/rrsa-role/cgw-batch`);
  assert.equal((await id({ HOME: home.dir })).arn, `acs:ram::${ACCOUNT}:user/deployer`, "the config's current profile");
  assert.equal((await id({ HOME: home.dir, ALIBABA_CLOUD_PROFILE: 'root' })).type, 'Account');
  assert.equal(resolveProvider({ env: { HOME: home.dir, ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' } }, net), undefined);
  assert.equal((await id({ HOME: empty.dir, ALIBABA_CLOUD_ECS_METADATA: 'EcsRole', CGW_BATCH_ECS_METADATA_URL: md.url })).arn, `acs:ram::${ACCOUNT}:assumed-role/EcsRole/cgw-batch`);
  assert.ok(!md.seen.some((s) => s.startsWith('GET /latest/meta-data/ram/security-credentials/ ')), 'a named role is not looked up');
  assert.equal((await id({ HOME: empty.dir, ALIBABA_CLOUD_CREDENTIALS_URI: uri.url })).type, 'AssumedRoleUser');
  assert.equal(resolveProvider({ env: { HOME: empty.dir } }, net), undefined, 'nothing configured: no provider, and no probe of the metadata service');
});

test('temporary credentials are fetched again before they expire, and once more when the server says the token expired', async (t) => {
  let serverSkew = 0;
  let clientNow = Date.now();
  const emu = await emulator({ accounts: [DEFAULT_ACCOUNT, RAM_USER], clock: () => Date.now() + serverSkew, sts: { tokenTtlMs: 60_000 } });
  t.after(() => emu.close());
  const home = tempDir({
    '.aliyun/config.json': JSON.stringify({
      profiles: [{ name: 'role', mode: 'RamRoleArn', access_key_id: RAM_USER.accessKeyId, access_key_secret: RAM_USER.accessKeySecret, ram_role_arn: `acs:ram::${ACCOUNT}:role/deployer-role` }],
    }),
  });
  t.after(() => home.cleanup());
  const provider = resolveProvider({ env: { HOME: home.dir }, profile: 'role' }, { timeoutMs: 3000, sts: () => emu.url, clock: () => clientNow })!;
  const vpc = new PopVpcClient({ endpoint: emu.url, credentials: provider, timeoutMs: 3000 });
  t.after(() => vpc.close());
  await vpc.describeRegions();
  const first = vpc.accessKeyId;
  assert.match(first, /^STS\./);
  assert.equal(emu.stats().actions.AssumeRole?.ok, 1);

  clientNow += 20_000;
  await vpc.describeRegions();
  assert.equal(emu.stats().actions.AssumeRole?.ok, 1, 'a third into its life the token is reused');

  clientNow += 15_000;
  serverSkew = 35_000;
  await vpc.describeRegions();
  assert.equal(emu.stats().actions.AssumeRole?.ok, 2, 'past half its life it is refreshed ahead of expiry');
  const second = vpc.accessKeyId;
  assert.notEqual(second, first);

  // The server's clock runs ahead: it sees the token expired while we think it good. The call is refused, the
  // credentials are fetched again and the call goes through: nothing is lost.
  serverSkew = 35_000 + 61_000;
  await vpc.describeRegions();
  assert.equal(emu.stats().actions.DescribeRegions?.['InvalidSecurityToken.Expired'], 1);
  assert.equal(emu.stats().actions.AssumeRole?.ok, 3);
  assert.equal(emu.stats().actions.DescribeRegions?.ok, 4);
  assert.notEqual(vpc.accessKeyId, second);

  const old = await caught(getCallerIdentity({ credentials: { accessKeyId: first, accessKeySecret: 'x', securityToken: 'y' }, endpoint: emu.url, timeoutMs: 3000 }));
  assert.equal(old.code, 'InvalidSecurityToken.Expired');
  assert.equal(old.errorClass, 'auth');
});
