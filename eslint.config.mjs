// ESLint (flat config), run by `npm test`. typescript-eslint's recommended rules (not the type-checked set)
// and the import boundaries of README's Development section: front doors → services → stores → database,
// with core/ (the domain's own types and arithmetic) importable from every layer and importing nothing.
import tseslint from 'typescript-eslint';

// The front doors' HTTP entry files: the admin API's routers, the /transaction.edit route, the console's routes.
const ROUTERS = ['src/**/*-router.ts', 'src/**/*-route.ts', 'src/console/routes/**/*.ts'];

// The front doors: the HTTP entry files and the `txedit` command. A protocol's pure translation (LinkTrust's
// parameter parser, its XML, its rules) is not one: a batch file's rows are parsed by the same parser.
const FRONT_DOORS = [...ROUTERS, 'src/cli/**/*.ts'];

// An import path that names a front door: a router or route file, a console route, anything in cli/.
const FRONT_DOOR = '(-router|-route|/routes/[^/]+)$|(^|/)cli/';

// An import path that reaches into store/ from anywhere in src/.
const STORE = '(^|/)store/';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused parameters are kept for express's (req, res, next) signatures and interface shapes; locals still count.
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', caughtErrors: 'none', ignoreRestSiblings: true }],
      // A few casts of test doubles and driver results are deliberate; `any` is rare and each one is local.
      '@typescript-eslint/no-explicit-any': 'off',
      // `require()` loads optional and JSON modules where an import would load them eagerly.
      '@typescript-eslint/no-require-imports': 'off',
      // `cond ? a() : b()` as a statement picks one of two driver calls (sql-drivers.ts); other bare expressions still count.
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./', message: 'core/ is the domain: it imports only core/ (README, Development).' },
          ],
        },
      ],
    },
  },
  {
    // The core's service is shared by every front door: it knows none of their protocols, which bring their
    // rules to it (LinkTrust's: linktrust/linktrust-rules.ts).
    files: ['src/modification/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(linktrust|batch|admin|console|cli)/',
              message:
                'modification/ is the core every front door shares: it imports no front door or protocol module (README, Development).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!core/|config$|\\.\\./db/)',
              message:
                'store/ imports only store/, core/, the database config and db/migrations: never a service or a front door (README, Development).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ROUTERS,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // database-errors is the store layer's vocabulary for database trouble, which the edges answer with.
              regex: `${STORE}(?!database-errors$)`,
              allowTypeImports: true,
              message: 'Routers and console routes call services, never stores (README, Development).',
            },
          ],
        },
      ],
      // Not even as a type (typescript-eslint's rule lets every type import through a path it allows types from).
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: STORE,
              importNamePattern: 'Store$|^Sql(Runner)?$|^Database$',
              message:
                'Routers and console routes call services, never stores: take the service, not the store (README, Development).',
            },
          ],
        },
      ],
    },
  },
  {
    // Nothing below the front doors imports one (not even a type): services, stores, workers and protocol
    // modules are called by them. Only app.ts (and the console router) mount routers; the CLI is its own
    // entry (bin/). Shared HTTP helpers live in http/.
    files: ['src/**/*.ts'],
    ignores: ['src/app.ts', 'src/console/console-router.ts', ...FRONT_DOORS],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: FRONT_DOOR,
              message:
                'Services, stores and protocol modules never import a front door (router, route, console route, cli/): move what they share out of it (README, Development).',
            },
          ],
        },
      ],
    },
  },
);
