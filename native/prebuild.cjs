// Before `npm pack`/`npm publish`: ships this checkout's addon as a prebuilt binary, but only when it
// was built against Debian's libtorch-dev (a system library every user of that package has at the
// same path and soname; native/install.cjs still checks that it loads before using it). An addon
// built against a LIBTORCH folder links that folder and is not shipped: installs then build from source.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const addon = path.join(__dirname, 'build', 'Release', 'selfsup.node');
const target = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const against = fs.existsSync(path.join(__dirname, 'build', 'libtorch.txt'))
  ? fs.readFileSync(path.join(__dirname, 'build', 'libtorch.txt'), 'utf8').trim() : undefined;

fs.rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
if (against !== 'debian' || !fs.existsSync(addon)) {
  process.stderr.write(`selfsup: no prebuilt addon packed (${fs.existsSync(addon) ? `built against LIBTORCH=${against}` : 'not built'}): installs build it\n`);
} else {
  const { torchVersion } = require(addon).info();
  fs.mkdirSync(target, { recursive: true });
  fs.copyFileSync(addon, path.join(target, 'selfsup.node'));
  fs.writeFileSync(path.join(target, 'libtorch.json'), JSON.stringify({ libtorch: 'Debian libtorch-dev', version: torchVersion }) + '\n');
  process.stderr.write(`selfsup: packed the addon built against Debian's libtorch ${torchVersion} as prebuilds/${path.basename(target)}\n`);
}
