// Lint rules that catch what the type checker cannot: KEMI int results used as
// truth values (-1 is truthy in JavaScript). The facade already turns plain
// statuses into booleans; this keeps result codes (lookup's 1/-1/-2/-3...) and
// nullable PV values out of conditions too.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'src/ksr/generated/**'] },
  {
    files: ['src/**/*.ts', 'test/fixtures/types/**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/strict-boolean-expressions': [
        'error',
        { allowNumber: false, allowNullableNumber: false, allowString: true, allowNullableString: true, allowNullableObject: true, allowNullableBoolean: true },
      ],
    },
  },
  // The routing runs on every message: a loop whose bound comes from the
  // message is work a single packet can multiply. Only a counted `for` over
  // the length of an UPPER_CASE module constant (SCANNER_AGENTS) may loop.
  {
    files: ['src/routing/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...routingLoopRules()],
    },
  },
);

/** no-restricted-syntax entries: every loop but `for (...; i < CONSTANT.length; ...)`. */
export function routingLoopRules() {
  const message = 'routing loops only over module constants (`for (let i = 0; i < CONSTANT.length; i++)`): a bound taken from the message lets one packet multiply the work';
  const constant = '/^[A-Z][A-Z0-9_]*$/';
  return [
    ...['WhileStatement', 'DoWhileStatement', 'ForInStatement', 'ForOfStatement'].map((selector) => ({ selector, message })),
    {
      selector: `ForStatement:not([test.type='BinaryExpression'][test.operator='<'][test.right.type='MemberExpression'][test.right.object.name=${constant}][test.right.property.name='length'])`,
      message,
    },
    {
      selector: `CallExpression[callee.type='MemberExpression'][callee.property.name=/^(forEach|map|filter|reduce|reduceRight|some|every|find|findIndex)$/]:not([callee.object.name=${constant}])`,
      message,
    },
  ];
}
