/* Load plotly.js (4.7 MB) while the page's first callbacks run on the server, not after them.
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
    var url = prefix + "_dash-component-suites/plotly/package_data/plotly.min.js";
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
