import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard's files, read once at start: the page is plain HTML/JS/CSS in
 * src/server/dashboard (no build step for the operator), and uPlot comes from its npm package.
 */
export interface StaticAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

const require = createRequire(import.meta.url);

function dashboardFile(name: string): string {
  // dist/src/server/*.js → src/server/dashboard: the page ships as source, never compiled.
  return fileURLToPath(new URL(`../../../src/server/dashboard/${name}`, import.meta.url));
}

export function loadStaticAssets(): ReadonlyMap<string, StaticAsset> {
  const html = 'text/html; charset=utf-8';
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  const files: [string, string, string][] = [
    ['/', dashboardFile('index.html'), html],
    ['/dashboard.js', dashboardFile('dashboard.js'), js],
    ['/dashboard.css', dashboardFile('dashboard.css'), css],
    ['/assets/uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js'), js],
    ['/assets/uplot.css', require.resolve('uplot/dist/uPlot.min.css'), css],
  ];
  return new Map(
    files.map(([route, file, contentType]) => [route, { contentType, body: readFileSync(file) }]),
  );
}
