// string-width, loaded on its first call. yargs and cliui import it at start-up, but only call it
// to lay out --help; loading it builds an Intl.Segmenter and Unicode-property regular expressions,
// ~30 ms of every command's start-up. scripts/build.mjs points their imports here.
'use strict';

let real;

module.exports = function stringWidth(text, options) {
  if (!real) {
    const mod = require('string-width'); // bundled by esbuild; run only now
    real = mod.default ?? mod;
  }
  return real(text, options);
};
