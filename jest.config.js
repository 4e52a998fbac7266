// Two projects: fast unit tests next to the code, and e2e/integration tests that start the real
// apps against the local PostgreSQL and Redis (run in band: they share the machine's 2 cores).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
  },
];
const moduleNameMapper = {
  '^@platform/(config|tenancy|database|observability|tenant-events|testing|http|dns|acme|storage|mail)$':
    '<rootDir>/libs/$1/src',
  '^@platform/migrations$': '<rootDir>/migrations',
  '^@platform/tenant-template$': '<rootDir>/tenant-template',
};
const common = { transform: { '^.+\\.ts$': swc }, moduleNameMapper, testEnvironment: 'node' };

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,migrations,tenant-template}/**/__tests__/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps,libs}/**/test/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/e2e-setup.ts'],
    },
  ],
};
