/* Load AG Grid's grid code while nobody waits for it, not on the first page that shows a grid.
 *
 * dash-ag-grid keeps the grid itself (about 1 MB) in an async chunk that is fetched, evaluated and
 * set up only when the first AgGrid component mounts: on this 2-core machine that cost a second on
 * the first page change to a page with a grid (Collections, Disputes, Forecast, Customer aging, the
 * drill-down modal). Once the page has been idle for a moment after its first render, this mounts
 * one small hidden grid in the shell's "ar-grid-warm" box (through dash_clientside.set_props, as a
 * callback would), so the chunk is ready before the user opens such a page. A page that shows a grid
 * itself has already loaded it, and nothing is done.
 */
(function () {
    "use strict";
    var QUIET_MS = 600; // no Dash request or spinner for this long: the page has settled
    var started = false;

    function busy() {
        return document.querySelector('[data-dash-is-loading="true"], .dash-spinner') !== null;
    }

    function mount() {
        if (started) { return; }
        var box = document.getElementById("ar-grid-warm");
        var set = window.dash_clientside && window.dash_clientside.set_props;
        if (!box || !set) { return; }
        started = true;
        if (document.querySelector(".ag-root-wrapper")) { return; } // a grid is already on screen
        set("ar-grid-warm", {
            children: {
                namespace: "dash_ag_grid",
                type: "AgGrid",
                props: {
                    id: "ar-grid-warm-grid",
                    columnDefs: [{ field: "x" }],
                    rowData: [],
                    style: { height: "60px", width: "120px" },
                },
            },
        });
    }

    function watch() {
        var quietSince = null;
        var timer = setInterval(function () {
            if (started) { clearInterval(timer); return; }
            var box = document.getElementById("ar-grid-warm");
            if (!box || busy() || !document.querySelector(".js-plotly-plot, .ar-page")) {
                quietSince = null;
                return;
            }
            quietSince = quietSince || Date.now();
            if (Date.now() - quietSince >= QUIET_MS) {
                var idle = window.requestIdleCallback || function (fn) { return setTimeout(fn, 0); };
                idle(mount, { timeout: 2000 });
                clearInterval(timer);
            }
        }, 100);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", watch);
    } else {
        watch();
    }
})();
