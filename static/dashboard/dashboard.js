// The cockpit's charts, drawn with ECharts (installed by npm, served from static/vendor).
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function draw() {
    var print = document.querySelector("[data-print]");
    if (print) print.addEventListener("click", function () { window.print(); });
    if (!window.echarts) return;
    var charts = [];
    var trend = data("cockpit-trend");
    var trendNode = document.getElementById("chart-trend");
    if (trend && trendNode) {
      var t = echarts.init(trendNode, null, { renderer: "svg" });
      t.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { data: [trend.year + "年签约数", (trend.year - 1) + "年同期", trend.year + "年签约额(万元)"] },
        xAxis: { type: "category", data: trend.months },
        yAxis: [{ type: "value", name: "个" }, { type: "value", name: "万元" }],
        series: [
          { name: trend.year + "年签约数", type: "bar", data: trend.count },
          { name: (trend.year - 1) + "年同期", type: "bar", data: trend.count_last },
          { name: trend.year + "年签约额(万元)", type: "line", yAxisIndex: 1, data: trend.amount }
        ]
      });
      charts.push(t);
    }
    var funnel = data("cockpit-funnel");
    var funnelNode = document.getElementById("chart-funnel");
    if (funnel && funnelNode) {
      var f = echarts.init(funnelNode, null, { renderer: "svg" });
      // The period's funnel: stages in order (never widening), each labelled with its count
      // and the conversion from the previous stage (the words come translated in the data).
      var label = function (p) { return p.name + " " + p.value + (p.data.note ? "\n" + p.data.note : ""); };
      f.setOption({
        animation: false,
        tooltip: { trigger: "item", formatter: label },
        series: [{
          type: "funnel", sort: "none", minSize: "15%", gap: 2,
          label: { position: "inside", formatter: label },
          data: funnel
        }]
      });
      charts.push(f);
    }
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
