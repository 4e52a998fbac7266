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
// @fastify/static (Swagger UI's files on the data plane) requires content-disposition 3, an ES
// module: Node loads it with require(), jest's module loader cannot, so jest compiles it.
const ESM_ONLY_PACKAGES = '(?:@fastify/static/node_modules/)?content-disposition/';
const common = {
  transform: { '^.+\\.ts$': swc, [`/node_modules/${ESM_ONLY_PACKAGES}.+\\.js$`]: swc },
  transformIgnorePatterns: [`/node_modules/(?!${ESM_ONLY_PACKAGES})`],
  moduleNameMapper,
  testEnvironment: 'node',
};

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
