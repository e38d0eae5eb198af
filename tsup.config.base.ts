import type { Options } from 'tsup';

/** Shared build options: every package ships ESM + CJS + type declarations for Node 22+. */
export const baseConfig: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { customConditions: [] } },
  sourcemap: true,
  clean: true,
  target: 'node22',
  splitting: false,
  shims: true,
};
