// `make web`: the page's modules as one file per page, and ECharts as the parts it uses.
// A cold load then fetches one script where it fetched forty, and evaluates less: the outputs
// are committed (the API serves them; no Node is needed to run smartpark) and
// tests/dashboards/test_web_build.py checks they are what these sources build.
import { nodeResolve } from "@rollup/plugin-node-resolve";
import replace from "@rollup/plugin-replace";
import { transform } from "esbuild";

const WEB = "../web";
// Where the outputs go: web/ itself, or elsewhere to compare a fresh build with what is committed.
const OUT = process.env.SMARTPARK_WEB_OUT || WEB;
// Minified by esbuild: its output of ECharts evaluates about a tenth faster than terser's.
const minify = {
  name: "minify",
  async renderChunk(code, chunk, options) {
    // An ES module stays one; a script's top-level `var echarts` must stay global, not be wrapped.
    const format = options.format === "es" ? "esm" : undefined;
    const out = await transform(code, { minify: true, format, target: "es2020", legalComments: "none" });
    return { code: out.code, map: null };
  },
};

// Each page's entry module and its bundle; bundles sit one level under web/ as the modules
// do, so the modules' `new URL("../vendor/…", import.meta.url)` still resolve.
const pages = [
  ["js/main.js", "bundle/page.js"],
  ["screen/screen.js", "bundle/screen.js"],
  ["incident/incident.js", "bundle/incident.js"],
];

export default [
  {
    input: "echarts.js",
    output: { file: `${OUT}/vendor/echarts/echarts.min.js`, format: "iife", name: "echarts", plugins: [minify] },
    // ECharts' development checks and warnings go: this is the production build.
    plugins: [nodeResolve(), replace({ preventAssignment: true, values: { "process.env.NODE_ENV": '"production"' } })],
  },
  ...pages.map(([entry, out]) => ({
    input: `${WEB}/${entry}`,
    output: { file: `${OUT}/${out}`, format: "es", inlineDynamicImports: true, plugins: [minify] },
  })),
];
