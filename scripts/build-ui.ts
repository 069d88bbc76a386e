/**
 * `npm run build:ui`: bundles the dashboard (src/dashboard) with esbuild into dist/ui, minified,
 * with content-hashed names (`main-HASH.js`, `style-HASH.css`, cached for a year by the server),
 * and writes dist/ui/index.html naming them. Nothing is fetched at run time: preact, htm and
 * uPlot are in the bundle. dist/ is gitignored; scripts/setup.sh runs this after tsc.
 */
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'dist', 'ui');

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const started = performance.now();
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'src/dashboard/main.ts', style: 'src/dashboard/style.css' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  platform: 'browser',
  entryNames: '[name]-[hash]',
  outdir: OUT,
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const js = outputs.find((f) => /^main-.*\.js$/.test(f));
const css = outputs.find((f) => /^style-.*\.css$/.test(f));
if (js === undefined || css === undefined) throw new Error(`build-ui: esbuild wrote ${outputs.join(', ')}: expected main-HASH.js and style-HASH.css`);
writeFileSync(path.join(OUT, 'index.html'), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flotilla</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/${css}">
<script type="module" src="/ui/${js}"></script>
</head>
<body><div id="app"></div><noscript>The Flotilla dashboard needs JavaScript.</noscript></body>
</html>
`);
const sizes = Object.entries(result.metafile.outputs).map(([f, o]) => `${path.basename(f)} ${(o.bytes / 1024).toFixed(1)} KiB`).join(', ');
console.log(`build-ui: dist/ui: index.html, ${sizes} (${Math.round(performance.now() - started)} ms)`);
