// pop-core's RPC client class, required on first use: commands that open no session (status, report, plan --offline)
// never load it, and a session loads only its RPC half (the package's index also loads the ROA client and an XML stack).
import { createRequire } from 'node:module';
import type RPCClient from '@alicloud/pop-core/lib/rpc.js';

type RpcClass<T> = new (config: object, verbose?: boolean) => T;

let loaded: typeof RPCClient | undefined;

/** The RPC client class, as `T` (pop-core's own typings say little about what `request` resolves to). */
export function rpcClientClass<T>(): RpcClass<T> {
  loaded ??= createRequire(import.meta.url)('@alicloud/pop-core/lib/rpc.js') as typeof RPCClient;
  return loaded as unknown as RpcClass<T>;
}
