/**
 * Second webview bundle (dist/webview-toolkit.js, a browser IIFE): registers the @vscode/webview-ui-toolkit elements
 * the views use. Apart from dist/webview.js because the layer list needs none of it: webview.js (31 KB) stays quick
 * to fetch and parse, and ui.ts registerToolkit() adds this script (with the page's nonce) once the list is shown;
 * elements made before are upgraded when it registers. An .mts file because the toolkit is ESM-only, and a static
 * import is what lets esbuild keep only the three elements used (87 KB; the whole toolkit, as the dynamic import
 * inside webview.js had it, was ~300 KB of webview.js's 331 KB).
 */
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDivider } from '@vscode/webview-ui-toolkit';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox(), vsCodeDivider());
