import { type ChartSpec, renderSvg } from "./charts.js";

export const escapeHtml = (s: string | number): string =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Each chart drawn as SVG at generation time, in a figure with its title. */
export const chartFigures = async (charts: readonly ChartSpec[]): Promise<string[]> =>
  Promise.all(
    charts.map(
      async (c) =>
        `<figure id="chart-${c.id}" class="chart"><figcaption>${escapeHtml(c.title)}</figcaption>${await renderSvg(c.spec)}</figure>`,
    ),
  );

/**
 * A self-contained page: no script, no font, no image to fetch; its
 * Content-Security-Policy forbids any request.
 */
export const htmlPage = (body: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>grpc-lb lab compare</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 1100px; }
table { border-collapse: collapse; margin-bottom: 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; font-variant-numeric: tabular-nums; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
figure.chart { margin: 1.5rem 0; }
figcaption { font-weight: 600; margin-bottom: 0.5rem; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
