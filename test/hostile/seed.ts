// Writes an emulator data file holding `count` gateways in one region: big inventories without thousands of creates.
import { writeFileSync } from 'node:fs';

export function seedDataFile(path: string, opts: { accountId: string; regionId: string; count: number }): void {
  const gateways = Array.from({ length: opts.count }, (_, i) => ({
    CustomerGatewayId: `cgw-seed${String(i).padStart(17, '0')}`,
    IpAddress: `100.${64 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
    Name: `seed-${i}`,
    Description: '',
    Asn: 65000,
    CreateTime: 1_700_000_000_000 + i,
    ResourceGroupId: 'rg-acfmseed000000000',
    Tags: [],
    ClientTokens: [],
  }));
  const file = {
    version: 1,
    accounts: [
      {
        accountId: opts.accountId,
        flags: {},
        regions: [{ regionId: opts.regionId, gateways, tokens: [] }],
      },
    ],
  };
  writeFileSync(path, JSON.stringify(file) + '\n', { mode: 0o600 });
}
