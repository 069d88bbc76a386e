/** The dashboard's entry point (bundled by scripts/build-ui.ts into dist/ui). */
import { html, render } from 'htm/preact';
import { App } from './views/app.js';

const root = document.getElementById('app');
if (root === null) throw new Error('dashboard: no #app element in index.html');
render(html`<${App} />`, root);
