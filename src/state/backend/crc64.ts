// CRC-64/XZ (ECMA-182 polynomial, reflected, all-ones init and xorout): what OSS returns as x-oss-hash-crc64ecma.

// 0xC96C5795D7870F42 (the reflected ECMA-182 polynomial) as two 32-bit halves: BigInt per byte would be ~20x slower.
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;
const T_HI = new Uint32Array(256);
const T_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let k = 0; k < 8; k++) {
    const bit = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (bit) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  T_HI[i] = hi;
  T_LO[i] = lo;
}

/** A CRC in progress (the finished value of what was hashed so far): continue it with crc64Update. */
export interface Crc64 {
  hi: number;
  lo: number;
}

export const CRC64_EMPTY: Crc64 = { hi: 0, lo: 0 };

/** crc64(a ‖ b) from crc64(a) and b: appends need no re-read of what came before. */
export function crc64Update(crc: Crc64, data: Uint8Array): Crc64 {
  let hi = ~crc.hi >>> 0;
  let lo = ~crc.lo >>> 0;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ (data[i] as number)) & 0xff;
    lo = (((lo >>> 8) | ((hi & 0xff) << 24)) ^ (T_LO[idx] as number)) >>> 0;
    hi = ((hi >>> 8) ^ (T_HI[idx] as number)) >>> 0;
  }
  return { hi: ~hi >>> 0, lo: ~lo >>> 0 };
}

export function crc64(data: Uint8Array): Crc64 {
  return crc64Update(CRC64_EMPTY, data);
}

/** As OSS writes it: the unsigned 64-bit value in decimal. */
export function crc64String(c: Crc64): string {
  return ((BigInt(c.hi) << 32n) | BigInt(c.lo)).toString();
}
