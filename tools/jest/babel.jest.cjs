module.exports = {
  plugins: [
    'babel-plugin-transform-import-meta',
    '@babel/plugin-transform-modules-commonjs',
  ],
};
