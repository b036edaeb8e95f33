import { inlineAssets } from './inlineAssets.js';
import type { PageData } from './PageData.js';
import { html, jsonForScript, SafeHtml } from './safeHtml.js';

const STYLE = `
:root { --pass: #1a7f37; --fail: #cf222e; --error: #9a6700; --skip: #6e7781; --flaky: #bc4c00; --line: #d0d7de; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 16px 24px 48px; max-width: 1200px; color: #1f2328; }
h1 { font-size: 22px; margin: 8px 0; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 12px; } th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 12px/1.4 ui-monospace, monospace; } pre { background: #f6f8fa; padding: 8px; overflow-x: auto; white-space: pre-wrap; margin: 4px 0; }
.badge { display: inline-block; padding: 0 6px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.badge.PASS, .badge.FIXED, .badge.REPRODUCED { background: var(--pass); } .badge.FAIL, .badge.UNEXPECTED { background: var(--fail); } .badge.ERROR { background: var(--error); }
.badge.SKIP { background: var(--skip); } .badge.FLAKY { background: var(--flaky); } .badge.none { background: #afb8c1; }
.regression { color: var(--fail); font-weight: 600; } .note { color: #57606a; } .warn { background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; }
.failure { border-left: 4px solid var(--fail); padding: 2px 12px; margin: 10px 0; } .failure.ERROR { border-left-color: var(--error); }
.plot { margin: 6px 0 14px; } .legend-note { font-size: 12px; color: #57606a; margin: -8px 0 12px; }
details > summary { cursor: pointer; } .matrix td { min-width: 130px; } .kv td:first-child { color: #57606a; }
.summary span { margin-right: 12px; }
`;

/** One self-contained page: styles, the data as JSON, uPlot and the page script all inline. */
export function pageShell(title: string, body: SafeHtml, data: PageData): string {
  const assets = inlineAssets();
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
${assets.css}
</head>
<body>
${body}
<script type="application/json" id="hil-data">${jsonForScript(data)}</script>
${assets.scripts}
</body>
</html>
`.value;
}
