module.exports = require('../../../tools/jest/jest.lib.cjs')(__dirname);
