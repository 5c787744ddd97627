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
);
