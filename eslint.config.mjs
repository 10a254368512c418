// Lint rules only: formatting is dprint's job (dprint.json, `pnpm format`), with the same dprint plugin version
// and settings as the `@effect/dprint` rule of @effect/eslint-plugin, so the two never disagree.
import effect from "@effect/eslint-plugin"
import js from "@eslint/js"
import globals from "globals"
import tseslint from "typescript-eslint"

export default tseslint.config(
  {
    ignores: ["**/node_modules", "**/dist", "**/coverage", "**/.scratch", "docs/api"]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.node }
    },
    linterOptions: {
      reportUnusedDisableDirectives: "error"
    },
    rules: {
      // Based on the settings of Effect's own repository (its eslint.config.mjs), minus the formatting rules.
      "no-fallthrough": "off",
      "no-irregular-whitespace": "off",
      "object-shorthand": "error",
      "prefer-destructuring": "off",
      "sort-imports": "off",
      "no-unused-vars": "off",
      "prefer-rest-params": "off",
      "prefer-spread": "off",
      "@typescript-eslint/array-type": ["warn", { default: "generic", readonly: "generic" }],
      "@typescript-eslint/ban-ts-comment": "off",
      "@typescript-eslint/consistent-type-imports": "warn",
      "@typescript-eslint/no-empty-interface": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-use-before-define": "off"
    }
  },
  {
    // Library code imports one module at a time (`effect/Effect`, not `effect`): smaller bundles, and the house style.
    files: ["packages/*/src/**/*.ts"],
    plugins: { "@effect": effect },
    rules: {
      "@effect/no-import-from-barrel-package": ["error", {
        packageNames: ["effect", "@effect/platform", "@effect/platform-node"]
      }],
      // As in Effect: `array.push(...items)` overflows the stack for a large `items`.
      "no-restricted-syntax": ["error", {
        selector: "CallExpression[callee.property.name='push'] > SpreadElement.arguments",
        message: "Do not use spread arguments in Array.push"
      }]
    }
  },
  {
    // CommonJS: `.cjs` files, and the `.js` files of the packages with `"type": "commonjs"`.
    files: [
      "**/*.cjs",
      "examples/legacy-node/**/*.js",
      ".ci/smoke/cjs-node/**/*.js",
      ".ci/smoke/adapter-alone/**/*.js"
    ],
    languageOptions: { sourceType: "commonjs" },
    rules: {
      "@typescript-eslint/no-require-imports": "off"
    }
  }
)
