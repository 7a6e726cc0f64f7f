// The few ali-oss calls the emulator fidelity tests make (ali-oss ships no types; @types/ali-oss is not worth a dependency).
declare module 'ali-oss' {
  interface OssResult {
    res: { status: number; headers: Record<string, string> };
  }
  interface OssOptions {
    region?: string;
    endpoint?: string;
    bucket?: string;
    accessKeyId: string;
    accessKeySecret: string;
    stsToken?: string;
    refreshSTSTokenInterval?: number;
    refreshSTSToken?: () => Promise<{ accessKeyId: string; accessKeySecret: string; stsToken: string }>;
    authorizationV4?: boolean;
    sldEnable?: boolean;
    secure?: boolean;
    timeout?: number;
  }
  interface RequestOptions {
    headers?: Record<string, string>;
    position?: number | string;
    timeout?: number;
  }
  class OSS {
    constructor(opts: OssOptions);
    append(name: string, body: Buffer, opts?: RequestOptions): Promise<OssResult & { nextAppendPosition: string }>;
    put(name: string, body: Buffer, opts?: RequestOptions): Promise<OssResult>;
    head(name: string, opts?: RequestOptions): Promise<OssResult & { status: number }>;
    get(name: string, file?: null, opts?: RequestOptions): Promise<OssResult & { content: Buffer }>;
    delete(name: string, opts?: RequestOptions): Promise<OssResult>;
    listV2(
      query: Record<string, string | number>,
      opts?: RequestOptions,
    ): Promise<OssResult & { objects: Array<{ name: string; size: number; type: string }>; isTruncated: boolean; nextContinuationToken?: string }>;
  }
  export = OSS;
}
