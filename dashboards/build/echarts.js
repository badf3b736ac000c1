// The parts of ECharts the page draws with (js/charts.js, js/plan.js): a third of the full
// build's bytes off every cold load of a view with charts, and less to evaluate.
import * as echarts from "echarts/core";
import { BarChart, EffectScatterChart, LineChart, PieChart, ScatterChart } from "echarts/charts";
import {
  DataZoomComponent,
  GeoComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([
  BarChart, EffectScatterChart, LineChart, PieChart, ScatterChart,
  DataZoomComponent, GeoComponent, GridComponent, LegendComponent, TitleComponent, TooltipComponent,
  CanvasRenderer,
]);

export * from "echarts/core";
