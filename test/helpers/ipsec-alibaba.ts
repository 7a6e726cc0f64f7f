// The "Alibaba side" of a negotiation test: a responder's swanctl.conf written straight from the API's view of a
// connection (DescribeVpnConnection + DescribeVpnGateway + DescribeCustomerGateway), deliberately sharing no code or
// tables with src/device: if the renderer mirrors a field wrongly, the two sides disagree and the test fails.
import type { MatrixSet, Obj } from './ipsec-matrix.js';

const CIPHER: Record<string, string> = { aes: 'aes128', aes192: 'aes192', aes256: 'aes256', des: 'des', '3des': '3des' };
const HASH: Record<string, string> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
const MODP: Record<string, string> = { group1: 'modp768', group2: 'modp1024', group5: 'modp1536', group14: 'modp2048' };

function pick(table: Record<string, string>, v: unknown, what: string): string {
  const hit = table[String(v).toLowerCase()];
  if (!hit) throw new Error(`alibaba side: no mapping for ${what} ${String(v)}`);
  return hit;
}

function isIp(s: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(s);
}

function ident(s: string): string {
  return isIp(s) ? s : `"@${s}"`;
}

export interface AlibabaTunnel {
  /** Connection name in the responder's config. */
  conn: string;
  children: string[];
  gatewayIp: string;
  customerIp: string;
  version: 1 | 2;
}

export interface AlibabaSide {
  text: string;
  tunnels: AlibabaTunnel[];
}

/** The responder's configuration for one set, as the VPN gateway would hold it. */
export function alibabaSide(set: MatrixSet): AlibabaSide {
  const c = set.connection;
  const gw = set.gateway;
  const cgws = new Map(set.customerGateways.map((x) => [String(x['CustomerGatewayId']), x]));
  const vpc = String(c['LocalSubnet']).split(',');
  const branch = String(c['RemoteSubnet']).split(',');
  const specs: Array<{ key: string; gatewayIp: string; cgwId: string; ike: Obj; ipsec: Obj }> = [];
  const opts = (c['TunnelOptionsSpecification'] as Obj | undefined)?.['TunnelOptions'] as Obj[] | undefined;
  if (opts && opts.length > 0) {
    for (const t of opts) {
      specs.push({
        key: String(t['TunnelId']),
        gatewayIp: String(t['InternetIp'] ?? (t['Role'] === 'master' ? gw['InternetIp'] : gw['DisasterRecoveryInternetIp'])),
        cgwId: String(t['CustomerGatewayId']),
        ike: t['TunnelIkeConfig'] as Obj,
        ipsec: t['TunnelIpsecConfig'] as Obj,
      });
    }
  } else {
    specs.push({ key: String(c['VpnConnectionId']), gatewayIp: String(gw['InternetIp']), cgwId: String(c['CustomerGatewayId']), ike: c['IkeConfig'] as Obj, ipsec: c['IpsecConfig'] as Obj });
  }
  const conns: string[] = [];
  const secrets: string[] = [];
  const tunnels: AlibabaTunnel[] = [];
  for (const s of specs) {
    const cgw = cgws.get(s.cgwId);
    if (!cgw) throw new Error(`alibaba side: unknown customer gateway ${s.cgwId}`);
    const customerIp = String(cgw['IpAddress']);
    const name = `ali-${s.key}`;
    const version = String(s.ike['IkeVersion']).toLowerCase() === 'ikev2' ? 2 : 1;
    const ikeProposal = `${pick(CIPHER, s.ike['IkeEncAlg'], 'IkeEncAlg')}-${pick(HASH, s.ike['IkeAuthAlg'], 'IkeAuthAlg')}-${pick(MODP, s.ike['IkePfs'], 'IkePfs')}`;
    const pfs = String(s.ipsec['IpsecPfs']).toLowerCase();
    const espProposal = `${pick(CIPHER, s.ipsec['IpsecEncAlg'], 'IpsecEncAlg')}-${pick(HASH, s.ipsec['IpsecAuthAlg'], 'IpsecAuthAlg')}${pfs === 'disabled' ? '' : '-' + pick(MODP, pfs, 'IpsecPfs')}`;
    const localId = String(s.ike['LocalId'] || s.gatewayIp);
    const remoteId = String(s.ike['RemoteId'] || customerIp);
    // The gateway's own view: its LocalSubnet is local, the branch's RemoteSubnet remote. IKEv1 carries one pair per SA.
    const pairs: Array<[string[], string[]]> =
      version === 1 && (vpc.length > 1 || branch.length > 1) ? vpc.flatMap((l) => branch.map((r) => [[l], [r]] as [string[], string[]])) : [[vpc, branch]];
    const children = pairs.map(([l, r], i) => ({ name: pairs.length > 1 ? `${name}-${i + 1}` : name, l, r }));
    conns.push(
      `  ${name} {`,
      `    version = ${version}`,
      ...(version === 1 ? [`    aggressive = ${String(s.ike['IkeMode']).toLowerCase() === 'aggressive' ? 'yes' : 'no'}`] : []),
      `    local_addrs = ${s.gatewayIp}`,
      `    remote_addrs = ${customerIp}`,
      `    proposals = ${ikeProposal}`,
      `    rekey_time = ${Number(s.ike['IkeLifetime'])}s`,
      '    local {',
      '      auth = psk',
      `      id = ${ident(localId)}`,
      '    }',
      '    remote {',
      '      auth = psk',
      `      id = ${ident(remoteId)}`,
      '    }',
      '    children {',
      ...children.flatMap((ch) => [
        `      ${ch.name} {`,
        `        local_ts = ${ch.l.join(',')}`,
        `        remote_ts = ${ch.r.join(',')}`,
        `        esp_proposals = ${espProposal}`,
        `        life_time = ${Number(s.ipsec['IpsecLifetime'])}s`,
        // The gateway answers; it does not start (EffectImmediately false) nor rekey first within a test's life.
        '        start_action = none',
        '      }',
      ]),
      '    }',
      '  }',
    );
    // Hex-encoded: the responder's PSK never depends on quoting, so the branch side's quoting is what is tested.
    secrets.push(
      `  ike-${name} {`,
      `    id-a = ${ident(localId)}`,
      `    id-b = ${ident(remoteId)}`,
      `    secret = 0x${Buffer.from(String(s.ike['Psk']), 'utf8').toString('hex')}`,
      '  }',
    );
    tunnels.push({ conn: name, children: children.map((ch) => ch.name), gatewayIp: s.gatewayIp, customerIp, version });
  }
  return { text: ['connections {', ...conns, '}', 'secrets {', ...secrets, '}', ''].join('\n'), tunnels };
}
