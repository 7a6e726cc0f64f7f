// Endpoint rules as plain data: every region of the emulator's table, both networks, STS where it lives, templates, journals.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAlibabaHost, resolveEndpoints, sameEndpoint, stsEndpoint, vpcEndpoint } from '../../src/cloud/endpoints.js';
import { REGIONS } from '../../src/emulator/regions.js';
import { UsageError } from '../../src/errors.js';

const CENTRAL = new Set(['cn-hangzhou-finance', 'cn-shanghai-finance-1', 'cn-shenzhen-finance-1', 'cn-north-2-gov-1']);
const STS_SPECIAL: Record<string, string> = {
  'cn-hangzhou-finance': 'https://sts.aliyuncs.com',
  'cn-shenzhen-finance-1': 'https://sts-vpc.cn-shenzhen-finance-1.aliyuncs.com',
  'cn-north-2-gov-1': 'https://sts-vpc.cn-north-2-gov-1.aliyuncs.com',
};

test('VPC: every public region at vpc.<region>, and at vpc-vpc.<region> with --network vpc; the special regions central', () => {
  assert.ok(REGIONS.length >= 20);
  for (const { id } of REGIONS) {
    assert.equal(resolveEndpoints({ network: 'public' }).vpc(id), CENTRAL.has(id) ? 'https://vpc.aliyuncs.com' : `https://vpc.${id}.aliyuncs.com`, id);
    assert.equal(resolveEndpoints({ network: 'vpc', stsRegion: 'cn-hangzhou' }).vpc(id), CENTRAL.has(id) ? 'https://vpc.aliyuncs.com' : `https://vpc-vpc.${id}.aliyuncs.com`, id);
  }
  // cn-hangzhou is regional in Alibaba's endpoint data although an old SDK map sends it to the central endpoint.
  assert.equal(vpcEndpoint('cn-hangzhou', 'public'), 'https://vpc.cn-hangzhou.aliyuncs.com');
  for (const special of ['cn-hangzhou-finance', 'cn-shanghai-finance-1', 'cn-shenzhen-finance-1', 'cn-north-2-gov-1']) {
    assert.equal(vpcEndpoint(special, 'public'), 'https://vpc.aliyuncs.com');
    assert.equal(vpcEndpoint(special, 'vpc'), 'https://vpc.aliyuncs.com', 'the SDK map is read before the network rule');
  }
  assert.equal(vpcEndpoint('cn-beijing-finance-1', 'vpc'), 'https://vpc-vpc.cn-beijing-finance-1.aliyuncs.com');
});

test('STS: central without a region, regional with ALIBABA_CLOUD_STS_REGION, sts-vpc.<region> in a VPC (which needs the region)', () => {
  assert.equal(resolveEndpoints({ network: 'public' }).sts, 'https://sts.aliyuncs.com');
  for (const { id } of REGIONS) {
    assert.equal(resolveEndpoints({ network: 'public', stsRegion: id }).sts, STS_SPECIAL[id] ?? `https://sts.${id}.aliyuncs.com`);
    assert.equal(resolveEndpoints({ network: 'vpc', stsRegion: id }).sts, STS_SPECIAL[id] ?? `https://sts-vpc.${id}.aliyuncs.com`);
  }
  assert.throws(() => resolveEndpoints({ network: 'vpc' }), (e: unknown) => e instanceof UsageError && /ALIBABA_CLOUD_STS_REGION/.test(e.message) && /--sts-endpoint/.test(e.message));
  assert.equal(stsEndpoint('cn-hangzhou-finance', 'vpc'), 'https://sts.aliyuncs.com');
  assert.equal(stsEndpoint('cn-shenzhen-finance-1', 'public'), 'https://sts-vpc.cn-shenzhen-finance-1.aliyuncs.com');
  assert.equal(resolveEndpoints({ network: 'vpc', stsEndpoint: 'https://sts.example.internal/' }).sts, 'https://sts.example.internal', '--sts-endpoint wins and needs no region');
});

test('--endpoint: one URL for every region; a {region} template per region; STS stays with a non-Alibaba host, follows the rules on an Alibaba host', () => {
  const one = resolveEndpoints({ endpoint: 'http://127.0.0.1:9999/', network: 'public' });
  assert.equal(one.vpc('cn-hangzhou'), 'http://127.0.0.1:9999');
  assert.equal(one.vpc('eu-central-1'), 'http://127.0.0.1:9999');
  assert.equal(one.sts, 'http://127.0.0.1:9999', 'the emulator / a test proxy keeps receiving STS');
  assert.equal(one.label, 'http://127.0.0.1:9999');

  const tpl = resolveEndpoints({ endpoint: 'https://vpc-vpc.{region}.aliyuncs.com', network: 'vpc', stsRegion: 'cn-shanghai' });
  for (const { id } of REGIONS) assert.equal(tpl.vpc(id), `https://vpc-vpc.${id}.aliyuncs.com`, 'a template is taken as written');
  assert.equal(tpl.sts, 'https://sts-vpc.cn-shanghai.aliyuncs.com');
  assert.equal(tpl.label, 'https://vpc-vpc.{region}.aliyuncs.com');

  const pinned = resolveEndpoints({ endpoint: 'https://vpc.cn-shanghai.aliyuncs.com', network: 'public' });
  assert.equal(pinned.sts, 'https://sts.aliyuncs.com', 'an Alibaba Cloud host never receives STS calls it cannot answer');

  assert.throws(() => resolveEndpoints({ endpoint: 'http://{region}.emu.test:8080', network: 'public' }), /--sts-endpoint/);
  const withSts = resolveEndpoints({ endpoint: 'http://{region}.emu.test:8080', network: 'public', stsEndpoint: 'http://sts.emu.test:8080' });
  assert.equal(withSts.vpc('ap-southeast-1'), 'http://ap-southeast-1.emu.test:8080');
  assert.equal(withSts.sts, 'http://sts.emu.test:8080');
  assert.throws(() => tpl.vpc('cn-hangzhou/../x'), UsageError);
});

test('journal endpoints: the same URL or pattern, the old default label, and any two Alibaba Cloud endpoints are the same target', () => {
  assert.equal(resolveEndpoints({ network: 'public' }).label, 'https://vpc.<region>.aliyuncs.com', 'the label journals recorded before');
  assert.equal(resolveEndpoints({ network: 'vpc', stsRegion: 'cn-hangzhou' }).label, 'https://vpc-vpc.<region>.aliyuncs.com');
  assert.ok(sameEndpoint('http://127.0.0.1:9999', 'http://127.0.0.1:9999/'), 'a single URL keeps working with that URL');
  assert.ok(!sameEndpoint('http://127.0.0.1:9999', 'http://127.0.0.1:9998'));
  assert.ok(sameEndpoint('https://vpc.<region>.aliyuncs.com', 'https://vpc.{region}.aliyuncs.com'));
  assert.ok(sameEndpoint('https://vpc.<region>.aliyuncs.com', 'https://vpc-vpc.<region>.aliyuncs.com'), 'resume a laptop run from inside the VPC');
  assert.ok(sameEndpoint('https://vpc.<region>.aliyuncs.com', 'https://vpc.cn-shanghai.aliyuncs.com'));
  assert.ok(!sameEndpoint('https://vpc.<region>.aliyuncs.com', 'http://127.0.0.1:9999'), 'the cloud and an emulator never share a journal');
  assert.ok(!sameEndpoint('sandbox:/home/u/.cgw-batch/sandbox.json', 'https://vpc.<region>.aliyuncs.com'));
  assert.ok(!isAlibabaHost('https://vpc.aliyuncs.com.evil.example'));
  assert.ok(!isAlibabaHost('https://notaliyuncs.com'));
});
