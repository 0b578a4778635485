// tar, loaded on first use. src/artifact/tarball.ts imports its Header, Pax and Parser, which only
// artifacts with tar layers (Kyverno bundles, .tgz layers) need; loading tar (its crypto and fs
// set-up) is ~5 ms of every pull and push. scripts/build.mjs points that import here. Each export
// is called with `new` only; a constructor that returns an object gives that object to `new`.
'use strict';

let real;
const tar = () => (real ??= require('tar')); // bundled by esbuild; run only now

module.exports = {
  Header: function Header(...args) {
    return new (tar().Header)(...args);
  },
  Pax: function Pax(...args) {
    return new (tar().Pax)(...args);
  },
  Parser: function Parser(...args) {
    return new (tar().Parser)(...args);
  },
};
