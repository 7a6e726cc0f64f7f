// Secret scan of the device stage: for every set of the parameter matrix, every device type, with and without
// --redact-psk, and for hostile inputs, the PSKs and BGP keys appear only in the files that must hold them (and with
// --redact-psk in none), never in an issue, a warning, a file that holds no secret, or a writer error; searched raw
// and in every encoding a leak could take (secretForms: URL, JSON, XML, CSV, base64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_TYPES, renderSite } from '../../src/device/render.js';
import { writeConfigFiles } from '../../src/run/write-configs.js';
import { secretForms } from '../../src/secrets.js';
import { matrix, type MatrixSet, type Obj } from '../helpers/ipsec-matrix.js';
import { tempDir } from '../helpers/tmp.js';

/** Files that carry a secret by design; every other rendered file must hold none. */
const SECRET_FILES = new Set(['swanctl.conf', 'frr.conf', 'cisco-ios.txt', 'huawei-vrp.txt', 'h3c-comware.txt', 'juniper-srx.set', 'fortigate.conf']);
const BGP_KEY = 'BgpK3y#Marker$x';

function secretsOf(s: MatrixSet): string[] {
  const c = s.connection;
  const out: string[] = [];
  const ike = c['IkeConfig'] as Obj | undefined;
  if (ike?.['Psk']) out.push(String(ike['Psk']));
  for (const t of ((c['TunnelOptionsSpecification'] as Obj | undefined)?.['TunnelOptions'] as Obj[] | undefined) ?? []) {
    out.push(String((t['TunnelIkeConfig'] as Obj)['Psk']));
  }
  return out;
}

/** The matrix with a BGP key on every BGP tunnel. */
function withBgpKeys(s: MatrixSet): MatrixSet {
  const c = structuredClone(s.connection);
  const bgp = c['VpnBgpConfig'] as Obj | undefined;
  if (bgp?.['EnableBgp'] === 'true') bgp['AuthKey'] = BGP_KEY;
  for (const t of ((c['TunnelOptionsSpecification'] as Obj | undefined)?.['TunnelOptions'] as Obj[] | undefined) ?? []) {
    const b = t['TunnelBgpConfig'] as Obj;
    if (b['TunnelCidr']) b['AuthKey'] = BGP_KEY;
  }
  return { ...s, connection: c };
}

function leaks(text: string, secrets: string[]): string[] {
  const out: string[] = [];
  for (const s of secrets) for (const f of secretForms(s)) if (text.includes(f)) out.push(f === s ? 'raw' : 'encoded');
  return out;
}

test('PSKs and BGP keys appear only in the files that hold them; --redact-psk writes none', () => {
  let files = 0;
  for (const base of matrix()) {
    const s = withBgpKeys(base);
    const secrets = [...secretsOf(s), BGP_KEY];
    const input = { site: s.name, connection: s.connection, gateway: s.gateway, customerGateways: s.customerGateways };
    for (const d of DEVICE_TYPES) {
      for (const redactPsk of [false, true]) {
        const r = renderSite(input, d.type, { redactPsk });
        const where = `${s.name}/${d.type}${redactPsk ? ' --redact-psk' : ''}`;
        if (!r.ok) {
          assert.deepEqual(leaks(JSON.stringify(r.issues), secrets), [], `${where}: issues`);
          continue;
        }
        assert.deepEqual(leaks(JSON.stringify(r.warnings), secrets), [], `${where}: warnings`);
        for (const f of r.files) {
          files++;
          if (redactPsk || !SECRET_FILES.has(f.name)) assert.deepEqual(leaks(f.text, secrets), [], `${where}: ${f.name}`);
        }
        if (!redactPsk) {
          const all = r.files.map((f) => f.text).join('\n');
          // Where the device writes the key as is (not hex-encoded), it is there: the scan above has teeth.
          if (!/^0[xs]/i.test(secretsOf(s)[0]!)) assert.ok(all.includes(secretsOf(s)[0]!), `${where}: the PSK is in the config`);
        }
      }
    }
  }
  assert.ok(files > 200, `scanned ${files} files`);
});

test('hostile answers: a malformed PSK, BGP key or field never reaches an issue', () => {
  const s = matrix().find((x) => x.name === 'v2-bgp')!;
  const markers = ['PskMarker with space', 'PskMarker"quote', 'PskMarker\\back', `PskMarker${'x'.repeat(120)}`, 'PskMarker\u00e9'];
  for (const m of markers) {
    const c = structuredClone(s.connection);
    (c['IkeConfig'] as Obj)['Psk'] = m;
    (c['VpnBgpConfig'] as Obj)['AuthKey'] = `Bgp ${m}`;
    (c['VpnBgpConfig'] as Obj)['TunnelCidr'] = 'not-a-cidr';
    (c['IkeConfig'] as Obj)['IkeEncAlg'] = m; // a secret pasted into the wrong field is quoted (clipped): not a PSK leak
    for (const d of DEVICE_TYPES) {
      const r = renderSite({ site: 'hostile', connection: c, gateway: s.gateway, customerGateways: s.customerGateways }, d.type);
      assert.equal(r.ok, false);
      const text = JSON.stringify(r.ok ? [] : r.issues.filter((i) => i.parameter !== 'IkeConfig.IkeEncAlg'));
      assert.deepEqual(leaks(text, [m, `Bgp ${m}`]), [], `${d.type} ${m.slice(0, 20)}`);
    }
  }
});

test('written files: only the config files hold the PSK, 0600; a failed write reports no content', () => {
  const tmp = tempDir();
  try {
    const s = withBgpKeys(matrix().find((x) => x.name === 'dual-bgp')!);
    const r = renderSite({ site: s.name, connection: s.connection, gateway: s.gateway, customerGateways: s.customerGateways }, 'strongswan');
    assert.ok(r.ok);
    const dir = tmp.path('configs/dual-bgp/strongswan');
    assert.ok(writeConfigFiles(dir, r.files).ok);
    const secrets = [...secretsOf(s), BGP_KEY];
    for (const name of readdirSync(dir)) {
      const text = readFileSync(join(dir, name), 'utf8');
      if (!SECRET_FILES.has(name)) assert.deepEqual(leaks(text, secrets), [], name);
    }
    mkdirSync(join(tmp.path('blocked'), 'swanctl.conf'), { recursive: true });
    const failed = writeConfigFiles(tmp.path('blocked'), r.files);
    assert.equal(failed.ok, false);
    assert.deepEqual(leaks(JSON.stringify(failed), secrets), []);
  } finally {
    tmp.cleanup();
  }
});
