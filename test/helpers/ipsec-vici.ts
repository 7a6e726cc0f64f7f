// The vici client lives with the emulator's IPsec responders (src/emulator/vici.ts); the tests read SAs through it.
export { listSas, Vici, type SaInfo, type ViciMessage } from '../../src/emulator/vici.js';
