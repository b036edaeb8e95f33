import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReportError } from '../ReportError.js';
import { SafeHtml } from './safeHtml.js';

/**
 * The page's scripts and styles, inlined so index.html opens from disk with no network: uPlot
 * (minified, MIT, ~50 KB) from node_modules and the page's own compiled script.
 */
export interface InlineAssets {
  readonly css: SafeHtml;
  readonly scripts: SafeHtml;
}

let cached: InlineAssets | null = null;

export function inlineAssets(): InlineAssets {
  if (cached !== null) return cached;
  const require = createRequire(import.meta.url);
  const uplotDir = dirname(require.resolve('uplot'));
  const here = dirname(fileURLToPath(import.meta.url));
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new ReportError('REPORT_ASSET_MISSING', `Cannot read ${what} at ${path} (${(error as Error).message}); run "npm ci" / "npm run build"`, { cause: error });
    }
  };
  const uplotJs = read(join(uplotDir, 'uPlot.iife.min.js'), 'uPlot');
  const uplotCss = read(join(uplotDir, 'uPlot.min.css'), 'uPlot styles');
  const pageJs = read(join(here, 'pageScript.js'), 'the report page script')
    // Compiled as an ES module with type-only imports: the empty export and the source map
    // comment mean nothing inline (and the map would be a file the page cannot reach).
    .replace(/^export \{\};\s*$/m, '')
    .replace(/^\/\/# sourceMappingURL=.*$/m, '');
  cached = {
    css: new SafeHtml(`<style>${uplotCss}</style>`),
    // The page script runs in a function scope of its own: its top-level names stay off `window`.
    scripts: new SafeHtml(`<script>${scriptSafe(uplotJs)}</script>\n<script>(() => {\n${scriptSafe(pageJs)}\n})();</script>`),
  };
  return cached;
}

/** "</script" inside inline JS would end the element early. */
function scriptSafe(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script');
}
