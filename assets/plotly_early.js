/* Load plotly.js while the page's first callbacks run on the server, not after them.
 *
 * The script is the vendored cartesian partial bundle (assets/vendor, 1.5 MB: bar, scatter, pie,
 * heatmap and the other cartesian traces: every trace type the app draws) instead of the full
 * 4.8 MB bundle of the plotly package: a third of the bytes to parse and evaluate on a first render.
 * It is the same plotly.js version as the plotly package's (tests/test_plotly_bundle.py), and is
 * left out of the index's scripts (app.py, assets_ignore), so only this loads it.
 *
 * dcc.Graph fetches plotly.js only when the first chart mounts, i.e. after the page's callbacks have
 * answered, so its download and evaluation came last on every first render. This starts the same
 * script as soon as the renderer has sent its first callback request: evaluating it then overlaps the
 * server's work instead of holding up the renderer's start. dcc.Graph waits on
 * `Promise.resolve(window.Plotly || <load the script>)`: while our load is in flight window.Plotly
 * holds a promise, so a chart that mounts early waits for this load instead of starting a second one;
 * plotly.js replaces it with the library when it runs.
 */
(function () {
    "use strict";
    if (window.Plotly) {
        return;
    }
    var config = document.getElementById("_dash-config");
    var prefix = "/";
    try {
        prefix = JSON.parse(config ? config.textContent : "{}").requests_pathname_prefix || "/";
    } catch (e) {
        prefix = "/";
    }
    var url = prefix + "assets/vendor/plotly-cartesian-4.1.1.min.js"; // PLOTLY_BUNDLE in auth/views.py
    var finish;
    var waiting = new Promise(function (resolve) {
        finish = resolve;
    });
    function load(retries) {
        var script = document.createElement("script");
        script.src = url;
        script.async = true;
        script.onload = function () {
            finish();
        };
        script.onerror = function () {
            if (retries > 0) {
                load(retries - 1);
                return;
            }
            if (window.Plotly === waiting) {
                window.Plotly = undefined; // the charts then fail as they would have without this file
            }
            finish();
        };
        document.head.appendChild(script);
    }
    window.Plotly = waiting;
    var started = false;
    function start() {
        if (!started) {
            started = true;
            setTimeout(function () {
                load(1);
            }, 0);
        }
    }
    if (!window.fetch) {
        start();
        return;
    }
    var send = window.fetch;
    window.fetch = function (input) {
        var answer = send.apply(window, arguments);
        if (!started && String((input && input.url) || input).indexOf("_dash-update-component") >= 0) {
            start();
        }
        return answer;
    };
    setTimeout(start, 10000); // a page without callbacks still gets its charts
})();
