// Hermetic environment for tests: the SDK credential chain never looks past env vars, nothing leaves loopback.
export const hermeticEnv: Record<string, string> = {
  ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
  ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true',
  ALIBABA_CLOUD_IMDSV1_DISABLED: 'true',
  NO_COLOR: '1',
};
for (const [k, v] of Object.entries(hermeticEnv)) process.env[k] = v;
