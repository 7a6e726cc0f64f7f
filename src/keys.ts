// A row's natural key `region/ip` (one IP per region per account): made and taken apart in this one place.

/** `region/ip` from trimmed values. */
export function rowKey(region: string, ip: string): string {
  return `${region}/${ip}`;
}

/** The region and IP of a key (a key without `/` is all region). */
export function splitKey(key: string): { region: string; ip: string } {
  const i = key.indexOf('/');
  return i < 0 ? { region: key, ip: '' } : { region: key.slice(0, i), ip: key.slice(i + 1) };
}
