// Turns ESM-only packages (NestJS 12 and friends) into CommonJS for Jest.
//
// Some of them do `const require = createRequire(import.meta.url)`; the CommonJS transform then
// renames that binding to `_require` and hoists its own `_require(...)` imports above it (a TDZ
// error). Renaming the user binding first, before the module transform runs, avoids the clash.
const renameLocalRequire = () => ({
  visitor: {
    Program(path) {
      if (path.scope.hasOwnBinding('require')) path.scope.rename('require', '__esmRequire');
    },
  },
});

module.exports = {
  plugins: [renameLocalRequire, 'babel-plugin-transform-import-meta', '@babel/plugin-transform-modules-commonjs'],
};
